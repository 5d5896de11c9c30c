#include <gtest/gtest.h>

#include "config/ctid.h"

using bc::parse_ctid;

TEST(Ctid, AcceptsCanonicalNumbers) {
    EXPECT_EQ(parse_ctid("101").value(), 101u);
    EXPECT_EQ(parse_ctid("2147483644").value(), 2147483644u);
}

TEST(Ctid, RejectsNonCanonicalAndHostile) {
    for (const char* bad : {"", "0101", "../1", "1e3", "-101", "+101", " 101", "101 ", "10.1", "0x65", "abc", "101/..",
                            "18446744073709551616", "99999999999999999999", "2147483645", "0", "100", "1"}) {
        auto r = parse_ctid(bad);
        EXPECT_FALSE(r) << "accepted '" << bad << "'";
        if (!r) {
            EXPECT_NE(r.error().msg.find("invalid CTID"), std::string::npos) << r.error().msg;
        }
    }
}

TEST(Ctid, MessagesSayWhy) {
    EXPECT_NE(parse_ctid("0101").error().msg.find("leading zeros"), std::string::npos);
    EXPECT_NE(parse_ctid("100").error().msg.find("reserved"), std::string::npos);
    EXPECT_NE(parse_ctid("").error().msg.find("empty"), std::string::npos);
    EXPECT_NE(parse_ctid("1e3").error().msg.find("digits"), std::string::npos);
}
