#include <gtest/gtest.h>
#include <unistd.h>

#include "../common/testutil.h"
#include "acct/resources.h"
#include "config/conffile.h"
#include "config/ctconfig.h"
#include "config/settings.h"

using namespace bc;

TEST(ConfFile, ParsesOpenVzSyntax) {
    auto cf = ConfFile::parse("# comment\n\nHOSTNAME=\"ct101\"\nONBOOT=yes\nNUMPROC='80:100'\nexport X_1=\"a b\" # tail\n",
                              "t.conf");
    ASSERT_TRUE(cf) << cf.error().msg;
    EXPECT_EQ(cf->get("HOSTNAME"), "ct101");
    EXPECT_EQ(cf->get("ONBOOT"), "yes");
    EXPECT_EQ(cf->get("NUMPROC"), "80:100");
    EXPECT_EQ(cf->get("X_1"), "a b");
    EXPECT_FALSE(cf->get("MISSING"));
    EXPECT_EQ(cf->line_of("ONBOOT"), 4);
}

TEST(ConfFile, LastAssignmentWins) {
    auto cf = ConfFile::parse("A=\"1\"\nA=\"2\"\n", "t").value();
    EXPECT_EQ(cf.get("A"), "2");
    EXPECT_EQ(cf.line_of("A"), 2);
}

TEST(ConfFile, ErrorsNameFileAndLine) {
    struct Case {
        const char* text;
        int line;
        const char* reason;
    } cases[] = {
        {"A=\"1\"\nnot a line\n", 2, "expected KEY"},
        {"A=\"unterminated\n", 1, "unterminated double quote"},
        {"# c\nlower=\"x\"\n", 2, "invalid key"},
        {"A=\"x\" junk\n", 1, "after the closing quote"},
        {"A=two words\n", 1, "unquoted value"},
        {"A=\"$(reboot)\"\n", 1, "not supported"},
        {"=\"x\"\n", 1, "invalid key"},
        {"A='`reboot`'\n", 1, "not supported"},
    };
    for (const auto& c : cases) {
        auto r = ConfFile::parse(c.text, "/etc/x.conf");
        ASSERT_FALSE(r) << c.text;
        EXPECT_NE(r.error().msg.find(fmt::format("/etc/x.conf:{}:", c.line)), std::string::npos) << r.error().msg;
        EXPECT_NE(r.error().msg.find(c.reason), std::string::npos) << r.error().msg;
    }
}

TEST(ConfFile, SerializeKeepsCommentsAndRoundTrips) {
    const char* text = "# header\nA=\"1\"\n\n# about B\nB=\"x y\"\n";
    auto cf = ConfFile::parse(text, "t").value();
    cf.set("A", "2");
    cf.set("C", "new");
    std::string out = cf.serialize();
    EXPECT_EQ(out, "# header\nA=\"2\"\n\n# about B\nB=\"x y\"\nC=\"new\"\n");
    auto again = ConfFile::parse(out, "t").value();
    EXPECT_EQ(again.serialize(), out);
}

TEST(ConfFile, SaveIsAtomicAndRefusesUnsafeValues) {
    bctest::TempDir d;
    auto cf = ConfFile::parse("A=\"1\"\n", "t").value();
    ASSERT_TRUE(cf.save(d / "a.conf"));
    EXPECT_EQ(bctest::slurp(d / "a.conf"), "A=\"1\"\n");
    cf.set("A", "bad\"quote");
    EXPECT_FALSE(cf.save(d / "a.conf"));
    EXPECT_EQ(bctest::slurp(d / "a.conf"), "A=\"1\"\n") << "a failed save must leave the old file";
    // No temp files left behind.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path()), {}), 1);
}

TEST(Settings, DefaultsAndOverrides) {
    bctest::TempDir d;
    SettingsOverrides ov;
    ov.conf_dir = d.path();
    auto s = Settings::load(ov).value();
    EXPECT_EQ(s.lib_dir, "/var/lib/beancounter");
    EXPECT_EQ(s.run_dir, "/run/beancounter");
    EXPECT_EQ(s.template_dir, "/var/lib/beancounter/template");
    EXPECT_EQ(s.cgroup_prefix, "beancounter");
    EXPECT_EQ(s.ve_private_of(101), "/var/lib/beancounter/private/101");
    EXPECT_EQ(s.ct_conf_path(101), d.path() + "/ct/101.conf");

    bctest::write(d / "beancounter.conf", "LIB_DIR=\"/srv/bc\"\nCGROUP_PREFIX=\"bc-test\"\nSTOP_TIMEOUT=\"7\"\n"
                                          "VE_ROOT=\"/srv/root/$VEID\"\n");
    s = Settings::load(ov).value();
    EXPECT_EQ(s.lib_dir, "/srv/bc");
    EXPECT_EQ(s.template_dir, "/srv/bc/template");
    EXPECT_EQ(s.cgroup_prefix, "bc-test");
    EXPECT_EQ(s.stop_timeout, 7u);
    EXPECT_EQ(s.ve_root_of(7000), "/srv/root/7000");
    ov.lib_dir = "/x";
    EXPECT_EQ(Settings::load(ov).value().lib_dir, "/x") << "command line beats the config file";
}

TEST(Settings, RejectsBadValuesWithLocation) {
    bctest::TempDir d;
    SettingsOverrides ov;
    ov.conf_dir = d.path();
    for (auto [text, what] : {std::pair{"LIB_DIR=\"relative\"\n", "LIB_DIR"}, {"LIB_DIR=\"/a/../b\"\n", "LIB_DIR"},
                              {"CGROUP_PREFIX=\"a/b\"\n", "cgroup prefix"}, {"CGROUP_PREFIX=\"..\"\n", "cgroup prefix"},
                              {"STOP_TIMEOUT=\"12Q\"\n", "STOP_TIMEOUT"}, {"STOP_TIMEOUT=\"0\"\n", "STOP_TIMEOUT"}}) {
        bctest::write(d / "beancounter.conf", text);
        auto r = Settings::load(ov);
        ASSERT_FALSE(r) << text;
        EXPECT_NE(r.error().msg.find("beancounter.conf:1:"), std::string::npos) << r.error().msg;
        EXPECT_NE(r.error().msg.find(what), std::string::npos) << r.error().msg;
    }
    bctest::write(d / "beancounter.conf", "broken line\n");
    EXPECT_FALSE(Settings::load(ov));
}

TEST(CtConfig, ParsesResourcesAndValidates) {
    Settings s;
    auto f = ConfFile::parse("OSTEMPLATE=\"busybox\"\nHOSTNAME=\"web-1.example\"\nNUMPROC=\"80:100\"\nPHYSPAGES=\"0:256M\"\n"
                             "STOP_SIGNAL=\"RTMIN+3\"\n",
                             "101.conf")
                 .value();
    auto c = CtConfig::from_file(f, 101, s);
    ASSERT_TRUE(c) << c.error().msg;
    EXPECT_EQ(c->hostname, "web-1.example");
    EXPECT_EQ(c->limits[BC_RES_numproc].value(), (Limit{80, 100}));
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    EXPECT_EQ(c->limits[BC_RES_physpages].value(), (Limit{0, (256u << 20) / page}));
    EXPECT_EQ(c->stop_signal, SIGRTMIN + 3);
    EXPECT_EQ(c->ve_private, "/var/lib/beancounter/private/101");

    for (auto [text, what] : {std::pair{"OSTEMPLATE=\"../x\"\n", "101.conf:1: OSTEMPLATE"},
                              {"OSTEMPLATE=\"busybox\"\nNUMPROC=\"12Q\"\n", "101.conf:2: NUMPROC"},
                              {"OSTEMPLATE=\"busybox\"\nHOSTNAME=\"-bad\"\n", "101.conf:2: HOSTNAME"},
                              {"OSTEMPLATE=\"busybox\"\nSTOP_SIGNAL=\"NOPE\"\n", "101.conf:2"},
                              {"OSTEMPLATE=\"busybox\"\nVE_ROOT=\"rel\"\n", "101.conf:2: VE_ROOT"},
                              {"OSTEMPLATE=\"busybox\"\nVE_ROOT=\"/a/../b\"\n", "101.conf:2: VE_ROOT"},
                              {"HOSTNAME=\"h\"\n", "101.conf: OSTEMPLATE is missing"}}) {
        auto r = CtConfig::from_file(ConfFile::parse(text, "101.conf").value(), 101, s);
        ASSERT_FALSE(r) << text;
        EXPECT_NE(r.error().msg.find(what), std::string::npos) << r.error().msg;
    }
}

TEST(CtConfig, SaveLoadRoundTrip) {
    bctest::TempDir d;
    SettingsOverrides ov;
    ov.conf_dir = d.path();
    auto s = Settings::load(ov).value();
    std::filesystem::create_directories(s.ct_conf_dir());
    CtConfig c;
    c.id = 4242;
    c.ostemplate = "busybox";
    c.hostname = "h";
    c.ve_root = s.ve_root_of(4242);
    c.ve_private = s.ve_private_of(4242);
    c.limits[BC_RES_numproc] = Limit{10, 20};
    c.limits[BC_RES_kmemsize] = Limit{kUnlimited, kUnlimited};
    ASSERT_TRUE(c.save(s));
    auto back = CtConfig::load(4242, s).value();
    EXPECT_EQ(back.hostname, "h");
    EXPECT_EQ(back.limits[BC_RES_numproc].value(), (Limit{10, 20}));
    EXPECT_EQ(back.limits[BC_RES_kmemsize].value(), (Limit{kUnlimited, kUnlimited}));
    EXPECT_NE(bctest::slurp(s.ct_conf_path(4242)).find("NUMPROC=\"10:20\""), std::string::npos);
    EXPECT_NE(bctest::slurp(s.ct_conf_path(4242)).find("VE_PRIVATE=\"" + s.ve_private_of(4242) + "\""), std::string::npos)
        << "paths are recorded so that a later change of the global pattern cannot lose the container";
    auto missing = CtConfig::load(4243, s);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().err, ENOENT);
    EXPECT_NE(missing.error().msg.find("does not exist"), std::string::npos);
}

TEST(Resources, TableMatchesOpenVzOrder) {
    const auto& r = acct::resources();
    EXPECT_EQ(r[0].name, "kmemsize");
    EXPECT_EQ(r[4].name, "dummy");
    EXPECT_EQ(r[5].name, "numproc");
    EXPECT_EQ(r[5].config_key, "NUMPROC");
    EXPECT_EQ(r[23].name, "numiptent");
    EXPECT_EQ(r[24].name, "swappages");
    EXPECT_FALSE(r[24].in_ubc);
    EXPECT_TRUE(acct::find_resource("oomguarpages"));
    EXPECT_FALSE(acct::find_resource("dummy"));
}

TEST(Helpers, HostnamesTemplatesSignals) {
    EXPECT_TRUE(valid_hostname("ct101"));
    EXPECT_TRUE(valid_hostname("a.b-c.d"));
    EXPECT_FALSE(valid_hostname(""));
    EXPECT_FALSE(valid_hostname("a..b"));
    EXPECT_FALSE(valid_hostname("a_b"));
    EXPECT_FALSE(valid_hostname(std::string(64, 'a')));
    EXPECT_TRUE(valid_template_name("debian-12"));
    EXPECT_FALSE(valid_template_name("../etc"));
    EXPECT_FALSE(valid_template_name("Busybox"));
    EXPECT_EQ(parse_signal("TERM").value(), SIGTERM);
    EXPECT_EQ(parse_signal("SIGKILL").value(), SIGKILL);
    EXPECT_EQ(parse_signal("15").value(), 15);
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "RTMIN+3");
    EXPECT_EQ(parse_signal(signal_name(SIGRTMIN + 3)).value(), SIGRTMIN + 3);
    EXPECT_FALSE(parse_signal("FOO"));
    EXPECT_FALSE(parse_signal("0"));
}
