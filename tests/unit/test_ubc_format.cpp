#include <gtest/gtest.h>

#include "../common/ubc_parser.h"
#include "acct/beancounters.h"
#include "acct/resources.h"

using namespace bc;

namespace {
acct::CtBeancounters sample(Ctid id) {
    acct::CtBeancounters b;
    b.id = id;
    b.running = true;
    auto& np = b.res[BC_RES_numproc];
    np.c = {31, 44, 100, 120, 2};
    np.counted = true;
    auto& pp = b.res[BC_RES_physpages];
    pp.c = {41210, 98304, 0, 131072, 3};
    pp.counted = true;
    // Not counted: its held and maxheld must not show whatever the record holds.
    b.res[BC_RES_numflock].c = {7, 8, 100, 110, 1};
    return b;
}
}  // namespace

TEST(UbcFormat, MatchesOpenVzLayout) {
    std::string text = acct::format_ubc({sample(101), sample(2147483644)});
    auto parsed = bctest::parse_ubc(text);
    ASSERT_EQ(parsed.size(), 2u);
    for (const char* id : {"101", "2147483644"}) {
        const auto& rows = parsed.at(id);
        ASSERT_EQ(rows.size(), 24u) << "24 rows per container, swappages not among them";
        const char* order[] = {"kmemsize",  "lockedpages", "privvmpages",  "shmpages",     "dummy",      "numproc",
                               "physpages", "vmguarpages", "oomguarpages", "numtcpsock",   "numflock",   "numpty",
                               "numsiginfo", "tcpsndbuf",  "tcprcvbuf",    "othersockbuf", "dgramrcvbuf", "numothersock",
                               "dcachesize", "numfile",    "dummy",        "dummy",        "dummy",      "numiptent"};
        for (size_t i = 0; i < 24; ++i) EXPECT_EQ(rows[i].resource, order[i]) << i;
        EXPECT_EQ(rows[5].held, 31u);
        EXPECT_EQ(rows[5].maxheld, 44u);
        EXPECT_EQ(rows[5].barrier, 100u);
        EXPECT_EQ(rows[5].limit, 120u);
        EXPECT_EQ(rows[5].failcnt, 2u);
        EXPECT_EQ(rows[6].limit, 131072u);
        EXPECT_EQ(rows[10].held, 0u) << "an uncounted resource shows 0, as OpenVZ's dummy rows";
        EXPECT_EQ(rows[10].barrier, 100u) << "but its configured barrier";
        EXPECT_EQ(rows[0].limit, 9223372036854775807ULL) << "unlimited is LONG_MAX";
    }
    // The exact text of the first lines, as /proc/user_beancounters on a 64-bit kernel.
    EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n') + 1) + 1),
              "Version: 2.5\n"
              "       uid  resource                     held              maxheld              barrier                limit"
              "              failcnt\n");
    EXPECT_NE(text.find("\n      101:  kmemsize                        0                    0  9223372036854775807  "
                        "9223372036854775807                    0\n"),
              std::string::npos);
    EXPECT_NE(text.find("\n            numproc                        31                   44                  100  "
                        "                120                    2\n"),
              std::string::npos);
}

TEST(UbcFormat, OnlyCountedOrCollectedResourcesAreShownAsHeld) {
    bc_ct_counters c{};
    c.ctid = 101;
    for (auto& r : c.res) r.barrier = r.limit = BC_UNLIMITED;
    c.res[BC_RES_numproc] = {5, 9, 64, 64, 2};
    c.res[BC_RES_physpages] = {100, 200, BC_UNLIMITED, BC_UNLIMITED, 0};
    c.res[BC_RES_kmemsize] = {4096, 8192, BC_UNLIMITED, BC_UNLIMITED, 0};
    c.res[BC_RES_numflock] = {99, 99, 50, 60, 0};  // not counted: no BC_CT_FLOCK
    c.res[BC_RES_dcachesize] = {1, 1, 70, 80, 0};  // not counted by this build at all
    auto b = acct::from_record(101, &c);
    EXPECT_TRUE(b.res[BC_RES_numproc].counted);
    EXPECT_EQ(b.res[BC_RES_numproc].c.limit, 64u);
    EXPECT_FALSE(b.res[BC_RES_physpages].counted) << "memory not collected: not shown as held";
    EXPECT_FALSE(b.res[BC_RES_numflock].counted);
    EXPECT_EQ(b.res[BC_RES_numflock].c.barrier, 50u) << "limits in force are shown even where nothing is counted";
    EXPECT_FALSE(b.res[BC_RES_dcachesize].counted);
    EXPECT_EQ(b.res[BC_RES_dcachesize].c.limit, 80u);
    c.flags = BC_CT_MEMORY;
    b = acct::from_record(101, &c);
    EXPECT_TRUE(b.res[BC_RES_physpages].counted);
    EXPECT_TRUE(b.res[BC_RES_swappages].counted);
    EXPECT_FALSE(b.res[BC_RES_kmemsize].counted) << "kmemsize needs its own flag (v1 only)";
    c.flags |= BC_CT_KMEM;
    EXPECT_TRUE(acct::from_record(101, &c).res[BC_RES_kmemsize].counted);
    c.flags |= BC_CT_FLOCK;
    EXPECT_TRUE(acct::from_record(101, &c).res[BC_RES_numflock].counted);
    EXPECT_FALSE(acct::from_record(101, &c).res[BC_RES_dcachesize].counted);
}

TEST(UbcFormat, ParserRejectsShiftedColumns) {
    std::string text = acct::format_ubc({sample(101)});
    std::string shifted = text;
    shifted.replace(shifted.find("      101:  "), 12, "       101: ");
    EXPECT_THROW(bctest::parse_ubc(shifted), std::runtime_error);
    EXPECT_THROW(bctest::parse_ubc("Version: 2.6\n"), std::runtime_error);
}
