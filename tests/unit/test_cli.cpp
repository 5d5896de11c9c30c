// beanctl's command line: usage errors exit 2 with a clear message, before anything is done.
#include <gtest/gtest.h>

#include "../common/testutil.h"

namespace {
bctest::RunResult beanctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{BEANCTL_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    // A private, empty configuration root: nothing here may touch the host's.
    static bctest::TempDir root;
    return bctest::run(argv, {"BEANCOUNTER_CONF_DIR=" + root.path() + "/etc", "BEANCOUNTER_LIB_DIR=" + root.path() + "/lib",
                              "BEANCOUNTER_RUN_DIR=" + root.path() + "/run"});
}
}  // namespace

TEST(Cli, HelpEverywhere) {
    auto r = beanctl({"--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* c : {"create", "start", "stop", "restart", "status", "destroy", "exec", "enter", "list", "check",
                          "template", "mount", "umount", "set", "ubc", "unload"}) {
        EXPECT_NE(r.out.find(c), std::string::npos) << c;
        auto h = beanctl({c, "--help"});
        EXPECT_EQ(h.code, 0) << c << ": " << h.err;
        EXPECT_NE(h.out.find(std::string("Usage: beanctl ") + c), std::string::npos) << h.out;
    }
}

TEST(Cli, UsageErrorsExit2) {
    struct Case {
        std::vector<std::string> args;
        const char* msg;
    } cases[] = {
        {{}, "Usage"},
        {{"frobnicate"}, "unknown command"},
        {{"--bogus", "list"}, "unknown global option"},
        {{"start"}, "missing CTID"},
        {{"start", "0101"}, "leading zeros"},
        {{"start", "../1"}, "invalid CTID"},
        {{"start", "1e3"}, "invalid CTID"},
        {{"set", "101"}, "nothing to set"},
        {{"set", "101", "--devices", "c:1:3:x"}, "access must be"},
        {{"set", "101", "--devnodes", "../sda:rw"}, "without '..'"},
        {{"set", "101", "--ipadd", "10.0.0.256"}, "is not an IPv4 or IPv6 address"},
        {{"set", "101", "--ipadd", "224.0.0.1"}, "cannot be a container's address"},
        {{"set", "101", "--netif_add", "eth1,nomac"}, "is not a MAC address"},
        {{"set", "101", "--netdev_add", "lo"}, "not an interface name a container may take"},
        {{"set", "101", "--nameserver", "x"}, "invalid name server address"},
        {{"create", "101", "--no-userns=1"}, "does not take any arguments"},
        {{"unload", "101"}, "too many positional options"},
        {{"start", ""}, "empty"},
        {{"start", "18446744073709551616"}, "invalid CTID"},
        {{"stop", "101", "--timeout", "abc"}, "timeout"},
        {{"stop", "101", "--nope"}, "unrecognised option"},
        {{"create", "101", "--hostname", "bad_name"}, "invalid host name"},
        {{"create", "101", "--ostemplate", "../etc"}, "invalid template name"},
        {{"exec", "101"}, "no command given"},
        {{"list", "-o", "ctid,bogus"}, "unknown field 'bogus'"},
        {{"start", "101", "102"}, "too many positional"},
        {{"template", "frob"}, "unknown action"},
    };
    for (const auto& c : cases) {
        auto r = beanctl(c.args);
        std::string shown;
        for (const auto& a : c.args) shown += a + " ";
        EXPECT_EQ(r.code, 2) << shown << "\n" << r.err;
        EXPECT_NE(r.err.find(c.msg), std::string::npos) << shown << "\n" << r.err;
    }
}

TEST(Cli, UnknownContainerIsARuntimeError) {
    auto r = beanctl({"status", "4711"});
    EXPECT_EQ(r.code, 0) << "status of a missing container says 'deleted'";
    EXPECT_EQ(r.out, "CTID 4711 deleted unmounted down\n");
    auto j = beanctl({"status", "4711", "--json"});
    EXPECT_NE(j.out.find("\"exist\": false"), std::string::npos) << j.out;
}

TEST(Cli, ListOnEmptyRoot) {
    auto r = beanctl({"list", "-a"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "      CTID      NPROC STATUS    IP_ADDR         HOSTNAME\n");
    EXPECT_EQ(beanctl({"list", "-a", "-H"}).out, "");
    EXPECT_EQ(beanctl({"list", "--json"}).out, "[]\n");
}
