// numpty, counted from the container's devpts instance in the kernel, against terminals
// opened in the container.
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "../common/ubc_parser.h"
#include "fixture.h"

using namespace bctest;
using nlohmann::json;

class FilesTest : public BeanctlTest {
protected:
    static json numpty(const std::string& id) { return ubc_json(id).at("numpty"); }
};

// numpty: the terminals allocated in the container's devpts instance: exact at the reading,
// in JSON, in the host's and in the container's user_beancounters, back to the baseline
// when they are closed, the peak kept; terminals of another container do not count.
TEST_F(FilesTest, NumptyIsTheTerminalsOfTheContainersDevpts) {
    for (unsigned n : {1701u, 1702u}) {
        std::string id = ct(n);
        ASSERT_EQ(beanctl({"create", id}).code, 0);
        std::filesystem::copy_file(HELPER_DIR "/ptys", lib() + "/private/" + id + "/ptys");
        ASSERT_EQ(beanctl({"start", id}).code, 0);
    }
    json rest = numpty("1701");
    ASSERT_FALSE(rest.at("held").is_null()) << "counted on both test kernels";
    const std::uint64_t base = rest.at("held");
    EXPECT_EQ(base, 0u) << "a container at rest holds no terminal";

    ASSERT_EQ(background_line("1701", "/ptys 5 600", "ptys"), "ready 5\n");
    ASSERT_EQ(background_line("1702", "/ptys 3 600", "ptys"), "ready 3\n");
    // A second process of the same container: its terminals add up.
    ASSERT_EQ(background_line("1701", "/ptys 2 600", "more"), "ready 2\n");
    json held = numpty("1701");
    EXPECT_EQ(held.at("held"), 7u);
    EXPECT_EQ(held.at("maxheld"), 7u);
    EXPECT_EQ(numpty("1702").at("held"), 3u);
    auto rows = parse_ubc(slurp(bpf_dir() + "/user_beancounters"));
    EXPECT_EQ(rows.at("1701")[11].held, 7u) << "numpty in the iterator file";
    EXPECT_EQ(rows.at("1702")[11].held, 3u);
    EXPECT_EQ(parse_ubc(beanctl({"exec", "1701", "cat", "/dev/user_beancounters"}).out).at("1701")[11].held, 7u);

    ASSERT_EQ(beanctl({"exec", "1701", "killall", "-9", "ptys"}).code, 0);
    std::uint64_t now = 7;
    for (int i = 0; i < 300 && now != base; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        now = numpty("1701").at("held");
    }
    EXPECT_EQ(now, base) << "closed with their last file";
    EXPECT_EQ(numpty("1701").at("maxheld"), 7u) << "the peak stays";
    EXPECT_EQ(numpty("1702").at("held"), 3u);
    beanctl({"exec", "1702", "killall", "-9", "ptys"});
}
