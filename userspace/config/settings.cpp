#include "config/settings.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fmt/format.h>

#include "config/conffile.h"
#include "core/fs.h"

namespace bc {

void SettingsOverrides::from_environment() {
    auto env = [](std::optional<std::string>& field, const char* name) {
        if (field) return;
        if (const char* v = std::getenv(name); v && *v) field = v;
    };
    env(conf_dir, "BEANCOUNTER_CONF_DIR");
    env(lib_dir, "BEANCOUNTER_LIB_DIR");
    env(run_dir, "BEANCOUNTER_RUN_DIR");
    env(template_dir, "BEANCOUNTER_TEMPLATE_DIR");
    env(cgroup_prefix, "BEANCOUNTER_CGROUP_PREFIX");
    env(bpf_dir, "BEANCOUNTER_BPF_DIR");
}

std::string expand_veid(const std::string& pattern, Ctid id) {
    std::string out = pattern;
    std::string idstr = std::to_string(id);
    for (std::string_view tok : {"${VEID}", "$VEID"}) {
        size_t pos;
        while ((pos = out.find(tok)) != std::string::npos) out.replace(pos, tok.size(), idstr);
    }
    return out;
}

bool valid_cgroup_name(std::string_view s) {
    if (s.empty() || s == "." || s == ".." || s.size() > 200) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
    return true;
}

bool valid_abs_path(std::string_view p) {
    if (p.empty() || p[0] != '/') return false;
    size_t pos = 0;
    while (pos <= p.size()) {
        size_t next = p.find('/', pos);
        if (next == std::string_view::npos) next = p.size();
        if (p.substr(pos, next - pos) == "..") return false;
        pos = next + 1;
    }
    return true;
}

Result<Settings> Settings::load(const SettingsOverrides& ov) {
    Settings s;
    if (ov.conf_dir) s.conf_dir = *ov.conf_dir;
    ConfFile gc;
    auto loaded = ConfFile::load(s.global_conf_path());
    if (loaded)
        gc = std::move(*loaded);
    else if (loaded.error().err != ENOENT)
        return std::unexpected(loaded.error());

    auto pick = [&](std::string& field, const std::optional<std::string>& o, std::string_view key) {
        if (o)
            field = *o;
        else if (auto v = gc.get(key))
            field = *v;
    };
    pick(s.lib_dir, ov.lib_dir, "LIB_DIR");
    pick(s.run_dir, ov.run_dir, "RUN_DIR");
    s.template_dir = s.lib_dir + "/template";
    pick(s.template_dir, ov.template_dir, "TEMPLATE");
    pick(s.cgroup_prefix, ov.cgroup_prefix, "CGROUP_PREFIX");
    pick(s.bpf_dir, ov.bpf_dir, "BPF_DIR");
    pick(s.cgroup_parent, std::nullopt, "CGROUP_PARENT");
    s.ve_root = s.lib_dir + "/root/$VEID";
    s.ve_private = s.lib_dir + "/private/$VEID";
    pick(s.ve_root, std::nullopt, "VE_ROOT");
    pick(s.ve_private, std::nullopt, "VE_PRIVATE");
    pick(s.default_template, std::nullopt, "DEF_OSTEMPLATE");

    auto where = [&](std::string_view key) {
        int l = gc.line_of(key);
        return l ? fmt::format("{}:{}: ", s.global_conf_path(), l) : std::string();
    };
    for (auto [field, key] : {std::pair{&s.conf_dir, "CONF_DIR"}, {&s.lib_dir, "LIB_DIR"}, {&s.run_dir, "RUN_DIR"},
                              {&s.template_dir, "TEMPLATE"}, {&s.ve_root, "VE_ROOT"}, {&s.ve_private, "VE_PRIVATE"},
                              {&s.bpf_dir, "BPF_DIR"}}) {
        if (!valid_abs_path(*field))
            return fail(fmt::format("{}{} must be an absolute path without '..' (got '{}')", where(key), key, *field));
    }
    if (!valid_cgroup_name(s.cgroup_prefix))
        return fail(fmt::format("{}cgroup prefix '{}' must be one name of letters, digits, '_', '-' or '.'",
                                where("CGROUP_PREFIX"), s.cgroup_prefix));
    if (!s.cgroup_parent.empty()) {
        std::string_view p = s.cgroup_parent;
        while (!p.empty() && p.front() == '/') p.remove_prefix(1);
        if (!valid_abs_path("/" + std::string(p)))
            return fail(fmt::format("{}CGROUP_PARENT '{}' must be a path without '..'", where("CGROUP_PARENT"), s.cgroup_parent));
        s.cgroup_parent = std::string(p);
    }
    if (auto v = gc.get("BPF_MAX_TASKS")) {
        auto n = ConfFile::parse_uint(*v, 1, 1u << 22);
        if (!n)
            return fail(fmt::format("{}BPF_MAX_TASKS must be a number from 1 to 4194304 (got '{}')",
                                    where("BPF_MAX_TASKS"), *v));
        s.bpf_max_tasks = *n;
    }
    if (auto v = gc.get("STOP_TIMEOUT")) {
        auto t = ConfFile::parse_uint(*v, 1, 86400);
        if (!t)
            return fail(fmt::format("{}STOP_TIMEOUT must be a number of seconds from 1 to 86400 (got '{}')",
                                    where("STOP_TIMEOUT"), *v));
        s.stop_timeout = *t;
    }
    if (auto v = gc.get("USERNS_POOL")) {
        auto colon = v->find(':');
        auto start = ConfFile::parse_uint(std::string_view(*v).substr(0, colon), 1, UINT32_MAX - 1);
        auto count = colon == std::string::npos ? std::nullopt : ConfFile::parse_uint(std::string_view(*v).substr(colon + 1), kCtIdRangeSize, UINT32_MAX);
        if (!start || !count || std::uint64_t{*start} + *count > UINT32_MAX)
            return fail(fmt::format("{}USERNS_POOL must be START:COUNT, host ids from 1 below 4294967295, with room for at "
                                    "least one range of {} (got '{}')",
                                    where("USERNS_POOL"), kCtIdRangeSize, *v));
        s.userns_pool = {*start, *count};
    }
    return s;
}

std::string Settings::global_conf_path() const { return conf_dir + "/beancounter.conf"; }
std::string Settings::ct_conf_dir() const { return conf_dir + "/ct"; }
std::string Settings::ct_conf_path(Ctid id) const { return fmt::format("{}/ct/{}.conf", conf_dir, id); }
std::string Settings::lock_dir() const { return run_dir + "/lock"; }
std::string Settings::lock_path(Ctid id) const { return fmt::format("{}/lock/{}.lock", run_dir, id); }
std::string Settings::ct_run_dir(Ctid id) const { return fmt::format("{}/ct/{}", run_dir, id); }
std::string Settings::ve_root_of(Ctid id) const { return expand_veid(ve_root, id); }
std::string Settings::ve_private_of(Ctid id) const { return expand_veid(ve_private, id); }

}  // namespace bc
