// The config half of `beanctl check`: fragment format, kernel config parsing (plain and gzip),
// and the OK / MISSING / UNAVAILABLE verdicts. No root, no kernel features.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "../common/testutil.h"
#include "kconfig.h"

using namespace bc::kconfig;

namespace {

const Option* find(const std::vector<Option>& v, std::string_view name) {
    auto it = std::find_if(v.begin(), v.end(), [&](const Option& o) { return o.name == name; });
    return it == v.end() ? nullptr : &*it;
}

Option opt(std::string name, bool required) { return Option{std::move(name), "y", required, "tests"}; }

}  // namespace

TEST(KconfigFragment, BuiltinParsesAndListsWhatTheCheckNeeds) {
    auto f = parse_fragment(builtin_fragment());
    ASSERT_TRUE(f) << f.error().msg;
    for (const char* name : {"CONFIG_BPF_SYSCALL", "CONFIG_BPF_JIT", "CONFIG_DEBUG_INFO_BTF", "CONFIG_CGROUPS",
                             "CONFIG_CGROUP_BPF", "CONFIG_BPF_EVENTS", "CONFIG_MEMCG", "CONFIG_CGROUP_PIDS",
                             "CONFIG_CGROUP_SCHED", "CONFIG_FAIR_GROUP_SCHED", "CONFIG_CFS_BANDWIDTH",
                             "CONFIG_CGROUP_CPUACCT", "CONFIG_CGROUP_DEVICE", "CONFIG_NAMESPACES", "CONFIG_UTS_NS",
                             "CONFIG_IPC_NS", "CONFIG_PID_NS", "CONFIG_NET_NS", "CONFIG_USER_NS", "CONFIG_VETH",
                             "CONFIG_NETFILTER", "CONFIG_NF_TABLES", "CONFIG_POSIX_MQUEUE", "CONFIG_SECCOMP",
                             "CONFIG_SECCOMP_FILTER", "CONFIG_TMPFS", "CONFIG_PROC_FS", "CONFIG_SYSFS",
                             "CONFIG_INET", "CONFIG_IPV6", "CONFIG_UNIX"}) {
        const Option* o = find(*f, name);
        ASSERT_NE(o, nullptr) << name;
        EXPECT_TRUE(o->required) << name;
        EXPECT_EQ(o->value, "y") << name;
        EXPECT_FALSE(o->needed_by.empty()) << name;
    }
    // What this development host lacks must never fail the check.
    for (const char* name : {"CONFIG_BPF_LSM", "CONFIG_FUNCTION_TRACER", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS",
                             "CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS", "CONFIG_IKCONFIG_PROC", "CONFIG_DUMMY"}) {
        const Option* o = find(*f, name);
        ASSERT_NE(o, nullptr) << name;
        EXPECT_FALSE(o->required) << name;
    }
    EXPECT_EQ(find(*f, "CONFIG_DEVPTS_MULTIPLE_INSTANCES"), nullptr) << "obsolete since 4.7";
}

TEST(KconfigFragment, TagsApplyToTheNextLine) {
    auto f = parse_fragment(
        "# header comment\n"
        "## section\n"
        "\n"
        "# required: the numproc counter\n"
        "CONFIG_A=y\n"
        "# optional:   kprobes  \n"
        "CONFIG_B=m\n"
        "# required: a number\n"
        "CONFIG_C=64");
    ASSERT_TRUE(f) << f.error().msg;
    ASSERT_EQ(f->size(), 3u);
    EXPECT_EQ((*f)[0].name, "CONFIG_A");
    EXPECT_EQ((*f)[0].value, "y");
    EXPECT_TRUE((*f)[0].required);
    EXPECT_EQ((*f)[0].needed_by, "the numproc counter");
    EXPECT_EQ((*f)[1].value, "m");
    EXPECT_FALSE((*f)[1].required);
    EXPECT_EQ((*f)[1].needed_by, "kprobes");
    EXPECT_EQ((*f)[2].value, "64");
}

TEST(KconfigFragment, RejectsWhatWouldSilentlyDropAnOption) {
    auto err = [](std::string_view text) {
        auto f = parse_fragment(text);
        return f ? std::string("(parsed)") : f.error().msg;
    };
    EXPECT_NE(err("CONFIG_A=y\n").find("line 1"), std::string::npos) << "option without a tag";
    EXPECT_NE(err("# required: x\n\nCONFIG_A=y\n").find("line 2"), std::string::npos) << "blank between tag and option";
    EXPECT_NE(err("# required: x\n# comment\nCONFIG_A=y\n").find("line 2"), std::string::npos);
    EXPECT_NE(err("# required: x\n").find("last tag"), std::string::npos);
    EXPECT_NE(err("# required:\nCONFIG_A=y\n").find("line 1"), std::string::npos) << "empty needed-by";
    EXPECT_NE(err("# required: x\nCONFIG_A=y\n# optional: y\nCONFIG_A=m\n").find("twice"), std::string::npos);
    EXPECT_NE(err("# required: x\nCONFIG_A=y # trailing\n").find("line 2"), std::string::npos);
    EXPECT_NE(err("# required: x\nCONFIG_A\n").find("line 2"), std::string::npos);
    EXPECT_NE(err("# required: x\nCONFIG_A=\n").find("line 2"), std::string::npos);
    EXPECT_NE(err("BPF=y\n").find("line 1"), std::string::npos);
}

TEST(KconfigConfig, ParsesValuesAndNotSet) {
    Config c = parse_config(
        "#\n"
        "# Automatically generated file; DO NOT EDIT.\n"
        "#\n"
        "CONFIG_BPF_SYSCALL=y\n"
        "CONFIG_VETH=m\n"
        "# CONFIG_KPROBES is not set\n"
        "CONFIG_LSM=\"landlock,lockdown,bpf\"\n"
        "CONFIG_NR_CPUS=64\r\n"
        "# General setup\n");
    EXPECT_EQ(c.size(), 5u);
    EXPECT_EQ(c.at("CONFIG_BPF_SYSCALL"), "y");
    EXPECT_EQ(c.at("CONFIG_VETH"), "m");
    EXPECT_EQ(c.at("CONFIG_KPROBES"), "n");
    EXPECT_EQ(c.at("CONFIG_LSM"), "\"landlock,lockdown,bpf\"");
    EXPECT_EQ(c.at("CONFIG_NR_CPUS"), "64");
    EXPECT_FALSE(c.contains("CONFIG_KPROBE_EVENTS"));
}

TEST(KconfigConfig, ReadsGzipAndPlainFiles) {
    bctest::TempDir d;
    const std::string text = "CONFIG_BPF_SYSCALL=y\n# CONFIG_KPROBES is not set\n";

    gzFile gz = gzopen((d / "config.gz").c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
    ASSERT_EQ(gzclose(gz), Z_OK);
    ASSERT_NE(bctest::slurp(d / "config.gz"), text) << "the file really is compressed";
    auto z = read_config_file(d / "config.gz");
    ASSERT_TRUE(z) << z.error().msg;
    EXPECT_EQ(*z, text);

    bctest::write(d / "config-6.1.0-56-amd64", text);
    auto p = read_config_file(d / "config-6.1.0-56-amd64");
    ASSERT_TRUE(p) << p.error().msg;
    EXPECT_EQ(*p, text);
    EXPECT_EQ(parse_config(*p).at("CONFIG_KPROBES"), "n");

    bctest::write(d / "broken.gz", std::string("\x1f\x8b\x08\x00garbage garbage garbage", 27));
    auto broken = read_config_file(d / "broken.gz");
    EXPECT_FALSE(broken) << "a damaged gzip stream is an error, not an empty config";

    auto missing = read_config_file(d / "nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().err, ENOENT);
    EXPECT_NE(missing.error().msg.find(d / "nope"), std::string::npos);
}

TEST(KconfigConfig, LooksInProcThenBoot) {
    EXPECT_EQ(config_paths("6.1.0-56-amd64"), (std::vector<std::string>{"/proc/config.gz", "/boot/config-6.1.0-56-amd64"}));
}

TEST(KconfigVerdict, BuiltInOrModuleIsOk) {
    Config c = parse_config("CONFIG_A=y\nCONFIG_B=m\n");
    EXPECT_EQ(judge(opt("CONFIG_A", true), c).status, Status::ok);
    EXPECT_TRUE(judge(opt("CONFIG_A", true), c).detail.empty());
    Verdict m = judge(opt("CONFIG_B", true), c);
    EXPECT_EQ(m.status, Status::ok);
    EXPECT_NE(m.detail.find("module"), std::string::npos);
}

TEST(KconfigVerdict, NotSetOrAbsentIsMissingWhenRequiredUnavailableWhenOptional) {
    Config c = parse_config("# CONFIG_A is not set\n");
    EXPECT_EQ(judge(opt("CONFIG_A", true), c).status, Status::missing);
    EXPECT_EQ(judge(opt("CONFIG_A", true), c).detail, "is not set");
    EXPECT_EQ(judge(opt("CONFIG_A", false), c).status, Status::unavailable);
    EXPECT_EQ(judge(opt("CONFIG_Z", true), c).status, Status::missing);
    EXPECT_EQ(judge(opt("CONFIG_Z", false), c).status, Status::unavailable);
    EXPECT_NE(judge(opt("CONFIG_Z", false), c).detail.find("not in the config"), std::string::npos);
}

TEST(KconfigVerdict, NonTristateValuesMustMatch) {
    Config c = parse_config("CONFIG_N=32\n");
    EXPECT_EQ(judge(Option{"CONFIG_N", "32", true, "x"}, c).status, Status::ok);
    Verdict v = judge(Option{"CONFIG_N", "64", true, "x"}, c);
    EXPECT_EQ(v.status, Status::missing);
    EXPECT_EQ(v.detail, "=32, wanted =64");
}

TEST(KconfigVerdict, StatusNames) {
    EXPECT_EQ(status_name(Status::ok), "OK");
    EXPECT_EQ(status_name(Status::missing), "MISSING");
    EXPECT_EQ(status_name(Status::unavailable), "UNAVAILABLE");
}
