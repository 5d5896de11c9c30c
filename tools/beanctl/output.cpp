#include "output.h"

#include <fmt/format.h>

#include "acct/resources.h"

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

namespace {
// vzlist's column titles of the beancounter fields.
std::string_view ubc_header(std::string_view name) {
    static const std::pair<std::string_view, std::string_view> h[] = {
        {"kmemsize", "KMEMSIZE"},     {"lockedpages", "LOCKEDP"}, {"privvmpages", "PRIVVMP"},   {"shmpages", "SHMP"},
        {"numproc", "NPROC"},         {"physpages", "PHYSP"},     {"vmguarpages", "VMGUARP"},   {"oomguarpages", "OOMGUARP"},
        {"numtcpsock", "NTCPSOCK"},   {"numflock", "NFLOCK"},     {"numpty", "NPTY"},           {"numsiginfo", "NSIGINFO"},
        {"tcpsndbuf", "TCPSNDB"},     {"tcprcvbuf", "TCPRCVB"},   {"othersockbuf", "OTHSOCKB"}, {"dgramrcvbuf", "DGRAMRB"},
        {"numothersock", "NOTHSOCK"}, {"dcachesize", "DCACHESZ"}, {"numfile", "NFILE"},         {"numiptent", "NIPTENT"},
        {"swappages", "SWAPP"},
    };
    for (const auto& [n, t] : h)
        if (n == name) return t;
    return name;
}
}  // namespace

const std::vector<ListField>& list_fields() {
    static const std::vector<ListField> f = [] {
        std::vector<ListField> v = {
            {"ctid", "CTID", 10},         {"status", "STATUS", -9},       {"ip", "IP_ADDR", -15},
            {"hostname", "HOSTNAME", -20}, {"ostemplate", "OSTEMPLATE", -12}, {"init_pid", "INIT_PID", 10},
            {"ve_root", "VE_ROOT", -30},  {"ve_private", "VE_PRIVATE", -30}, {"cputime", "CPUTIME", 12, -1, 0, true},
        };
        for (const auto& r : bc::acct::resources()) {
            if (r.unit == BC_UNIT_NONE) continue;
            std::string name(r.name), header(ubc_header(r.name));
            v.push_back({name, header, 10, static_cast<int>(r.id), 0, true});
            for (char p : {'m', 'b', 'l', 'f'})
                v.push_back({fmt::format("{}.{}", name, p), fmt::format("{}.{:c}", header, p - 32), 10, static_cast<int>(r.id), p,
                             true});
        }
        return v;
    }();
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
        if (name == "veid" || name == "vpsid") name = "ctid";  // vzlist's aliases
        bool found = false;
        for (const auto& f : list_fields())
            if (name == f.name) {
                out.push_back(f);
                found = true;
            }
        if (!found)
            return bc::fail(fmt::format("unknown field '{}' (beanctl list -L lists the valid ones)", name));
    }
    return out;
}

namespace {
// The number a beancounter field shows; nullopt where vzlist prints "-".
std::optional<std::uint64_t> ubc_value(const ListField& f, const bc::acct::CtBeancounters* b) {
    if (!b) return std::nullopt;
    const auto& v = b->res[static_cast<size_t>(f.resource)];
    switch (f.part) {
    case 'b': return v.c.barrier;
    case 'l': return v.c.limit;
    default: break;
    }
    if (!b->running || !v.counted) return std::nullopt;
    return f.part == 'm' ? v.c.maxheld : f.part == 'f' ? v.c.failcnt : v.c.held;
}

std::string status_word(const bc::container::CtStatus& st) {
    return st.incomplete ? "incomplete"
           : !st.config_error.empty() ? "broken"
           : st.running ? "running"
           : st.mounted ? "mounted"
                        : "stopped";
}
}  // namespace

std::string field_value(const ListField& f, const bc::container::CtStatus& st, const bc::acct::CtBeancounters* b) {
    if (f.resource >= 0) {
        auto v = ubc_value(f, b);
        return v ? std::to_string(*v) : "-";
    }
    const std::string& n = f.name;
    if (n == "ctid") return std::to_string(st.id);
    if (n == "status") return status_word(st);
    if (n == "ip") return st.config && !st.config->ips.empty() ? bc::format_ips(st.config->ips) : "-";
    if (n == "hostname") return st.hostname.empty() ? "-" : st.hostname;
    if (n == "ostemplate") return st.ostemplate.empty() ? "-" : st.ostemplate;
    if (n == "init_pid") return st.running ? std::to_string(st.init_pid) : "-";
    if (n == "ve_root") return st.ve_root;
    if (n == "ve_private") return st.ve_private;
    if (n == "cputime") return b && b->cpu_ns ? fmt::format("{:.3f}", static_cast<double>(*b->cpu_ns) / 1e9) : "-";
    return "-";
}

nlohmann::json counter_json(const bc::acct::Value& v) {
    using nlohmann::json;
    return {{"held", v.counted ? json(v.c.held) : json(nullptr)},
            {"maxheld", v.counted ? json(v.c.maxheld) : json(nullptr)},
            {"barrier", v.c.barrier},
            {"limit", v.c.limit},
            {"failcnt", v.counted ? json(v.c.failcnt) : json(nullptr)}};
}

nlohmann::json field_json(const ListField& f, const bc::container::CtStatus& st, const bc::acct::CtBeancounters* b) {
    using nlohmann::json;
    if (f.resource >= 0) {
        if (!b) return nullptr;
        return counter_json(b->res[static_cast<size_t>(f.resource)]);
    }
    const std::string& n = f.name;
    if (n == "ctid") return st.id;
    if (n == "cputime") return b && b->cpu_ns ? json(static_cast<double>(*b->cpu_ns) / 1e9) : json(nullptr);
    if (n == "init_pid") return st.running ? json(st.init_pid) : json(nullptr);
    if (n == "ip") {
        json a = json::array();
        if (st.config)
            for (const auto& ip : st.config->ips) a.push_back(ip.text());
        return a;
    }
    return field_value(f, st, b);
}

nlohmann::json beancounters_json(const bc::acct::CtBeancounters& b) {
    nlohmann::json j = {{"ctid", b.id}};
    for (const auto& r : bc::acct::resources())
        if (r.unit != BC_UNIT_NONE) j[std::string(r.name)] = counter_json(b.res[r.id]);
    if (b.traffic)
        j["traffic"] = {{"bytes_in", b.traffic->bytes_in},       {"packets_in", b.traffic->packets_in},
                        {"bytes_out", b.traffic->bytes_out},     {"packets_out", b.traffic->packets_out}};
    if (b.running) j["cpu"] = {{"usage_ns", b.cpu_ns ? nlohmann::json(*b.cpu_ns) : nlohmann::json(nullptr)}};
    return j;
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
