#include "output.h"

#include <fmt/format.h>

namespace beanctl {

std::string status_line(const bc::container::CtStatus& st) {
    std::string s = fmt::format("CTID {} {} {} {}", st.id, st.exists ? "exist" : "deleted",
                                st.mounted ? "mounted" : "unmounted", st.running ? "running" : "down");
    if (st.incomplete) s += " incomplete";
    if (!st.config_error.empty()) s += " broken";
    return s;
}

nlohmann::json status_json(const bc::container::CtStatus& st) {
    nlohmann::json j = {{"ctid", st.id},           {"exist", st.exists},     {"mounted", st.mounted},
                        {"running", st.running},   {"incomplete", st.incomplete},
                        {"numproc", st.numproc},   {"ve_root", st.ve_root}, {"ve_private", st.ve_private}};
    if (st.exists) {
        j["hostname"] = st.hostname;
        j["ostemplate"] = st.ostemplate;
    }
    if (st.running) j["init_pid"] = st.init_pid;
    if (!st.config_error.empty()) j["config_error"] = st.config_error;
    return j;
}

const std::vector<ListField>& list_fields() {
    static const std::vector<ListField> f = {
        {"ctid", "CTID", 10},         {"numproc", "NPROC", 10},       {"status", "STATUS", -9},
        {"ip", "IP_ADDR", -15},       {"hostname", "HOSTNAME", -20},  {"ostemplate", "OSTEMPLATE", -12},
        {"init_pid", "INIT_PID", 10}, {"ve_root", "VE_ROOT", -30},    {"ve_private", "VE_PRIVATE", -30},
    };
    return f;
}

bc::Result<std::vector<ListField>> parse_fields(const std::string& spec) {
    std::vector<ListField> out;
    size_t pos = 0;
    while (pos <= spec.size()) {
        size_t comma = spec.find(',', pos);
        if (comma == std::string::npos) comma = spec.size();
        std::string name = spec.substr(pos, comma - pos);
        pos = comma + 1;
        bool found = false;
        for (const auto& f : list_fields())
            if (name == f.name) {
                out.push_back(f);
                found = true;
            }
        if (!found) {
            std::string valid;
            for (const auto& f : list_fields()) valid += std::string(valid.empty() ? "" : ", ") + f.name;
            return bc::fail(fmt::format("unknown field '{}' (valid: {})", name, valid));
        }
    }
    return out;
}

std::string field_value(const ListField& f, const bc::container::CtStatus& st) {
    std::string_view n = f.name;
    if (n == "ctid") return std::to_string(st.id);
    if (n == "numproc") return st.running ? std::to_string(st.numproc) : "-";
    if (n == "status")
        return st.incomplete ? "incomplete"
               : !st.config_error.empty() ? "broken"
               : st.running ? "running"
               : st.mounted ? "mounted"
                            : "stopped";
    if (n == "ip") return "-";
    if (n == "hostname") return st.hostname.empty() ? "-" : st.hostname;
    if (n == "ostemplate") return st.ostemplate.empty() ? "-" : st.ostemplate;
    if (n == "init_pid") return st.running ? std::to_string(st.init_pid) : "-";
    if (n == "ve_root") return st.ve_root;
    if (n == "ve_private") return st.ve_private;
    return "-";
}

std::string format_row(const std::vector<ListField>& fields, const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) {
        int w = fields[i].width;
        const bool last = i + 1 == fields.size();
        if (w >= 0)
            out += fmt::format("{:>{}}", cells[i], w);
        else if (last)
            out += cells[i];
        else
            out += fmt::format("{:<{}}", cells[i], -w);
        if (!last) out += ' ';
    }
    return out;
}

}  // namespace beanctl
