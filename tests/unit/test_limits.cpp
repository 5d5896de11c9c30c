#include <gtest/gtest.h>

#include "config/limits.h"

using namespace bc;

namespace {
constexpr std::uint64_t kPage = 4096;
}

TEST(Limits, CountsTakePlainNumbers) {
    EXPECT_EQ(parse_limit("80:100", BC_UNIT_COUNT, kPage).value(), (Limit{80, 100}));
    EXPECT_EQ(parse_limit("100", BC_UNIT_COUNT, kPage).value(), (Limit{100, 100}));
    EXPECT_EQ(parse_limit("unlimited", BC_UNIT_COUNT, kPage).value(), (Limit{kUnlimited, kUnlimited}));
    EXPECT_EQ(parse_limit("10:unlimited", BC_UNIT_COUNT, kPage).value(), (Limit{10, kUnlimited}));
    EXPECT_FALSE(parse_limit("10K", BC_UNIT_COUNT, kPage));
}

TEST(Limits, PagesConvertByteSuffixes) {
    EXPECT_EQ(parse_value("256", BC_UNIT_PAGES, kPage).value(), 256u);
    EXPECT_EQ(parse_value("256P", BC_UNIT_PAGES, kPage).value(), 256u);
    EXPECT_EQ(parse_value("1M", BC_UNIT_PAGES, kPage).value(), 256u);
    EXPECT_EQ(parse_value("1m", BC_UNIT_PAGES, kPage).value(), 256u);
    EXPECT_EQ(parse_value("1G", BC_UNIT_PAGES, kPage).value(), 262144u);
    EXPECT_EQ(parse_value("1T", BC_UNIT_PAGES, kPage).value(), 268435456u);
    EXPECT_EQ(parse_value("4097B", BC_UNIT_PAGES, kPage).value(), 2u) << "bytes round up to whole pages";
    EXPECT_EQ(parse_value("1K", BC_UNIT_PAGES, kPage).value(), 1u);
}

TEST(Limits, BytesMultiplySuffixes) {
    EXPECT_EQ(parse_value("1024", BC_UNIT_BYTES, kPage).value(), 1024u);
    EXPECT_EQ(parse_value("2K", BC_UNIT_BYTES, kPage).value(), 2048u);
    EXPECT_EQ(parse_value("3P", BC_UNIT_BYTES, kPage).value(), 3 * kPage);
    EXPECT_EQ(parse_value("5B", BC_UNIT_BYTES, kPage).value(), 5u);
}

TEST(Limits, RejectsMalformed) {
    for (const char* bad : {"", "12Q", "1e3", "-1", "+1", "1.5G", "K", "10:", ":10", "1:2:3", "0x10", "10KB", " 10",
                            "unlimitedd", "UNLIMITED", "9223372036854775808", "99999999999999999999999"}) {
        EXPECT_FALSE(parse_limit(bad, BC_UNIT_PAGES, kPage)) << "accepted '" << bad << "'";
    }
    auto r = parse_limit("12Q", BC_UNIT_PAGES, kPage);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().msg.find("12Q"), std::string::npos);
    EXPECT_NE(r.error().msg.find("suffix"), std::string::npos);
}

TEST(Limits, RejectsBarrierAboveLimit) {
    auto r = parse_limit("100:80", BC_UNIT_COUNT, kPage);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().msg.find("barrier is greater than limit"), std::string::npos);
}

TEST(Limits, OverflowIsAnError) {
    EXPECT_FALSE(parse_value("9007199254740993T", BC_UNIT_BYTES, kPage));
    EXPECT_FALSE(parse_value("18446744073709551615", BC_UNIT_COUNT, kPage));
    EXPECT_EQ(parse_value("9223372036854775807", BC_UNIT_COUNT, kPage).value(), kUnlimited);
}

TEST(Limits, FormatRoundTrips) {
    for (const char* text : {"0", "1", "80:100", "unlimited", "10:unlimited", "9223372036854775806"}) {
        auto l = parse_limit(text, BC_UNIT_COUNT, kPage);
        ASSERT_TRUE(l) << text;
        EXPECT_EQ(format_limit(*l), text);
        EXPECT_EQ(parse_limit(format_limit(*l), BC_UNIT_COUNT, kPage).value(), *l);
    }
    // Suffixed input comes back in the native unit and parses to the same value.
    for (bc_unit u : {BC_UNIT_PAGES, BC_UNIT_BYTES}) {
        for (const char* text : {"1G:2G", "512M", "3P:7P", "1K:unlimited"}) {
            auto l = parse_limit(text, u, kPage);
            ASSERT_TRUE(l) << text;
            EXPECT_EQ(parse_limit(format_limit(*l), u, kPage).value(), *l) << text;
        }
    }
    EXPECT_EQ(format_limit(parse_limit("1G:2G", BC_UNIT_PAGES, kPage).value()), "262144:524288");
}
