// The device allowlist (bpf/dev.bpf.c) and `beanctl set` for devices, device nodes, the host
// name and the resolver: live on a running container, all or nothing, saved with --save.
#include <bpf/bpf.h>

#include "../../bpf/beancounter_abi.h"
#include "fixture.h"

using namespace bctest;

namespace {
// Rules the pinned allowlist holds for one cgroup.
size_t rules_of(const std::string& bpf_dir, std::uint64_t cgid) {
    int fd = ::bpf_obj_get((bpf_dir + "/bc_dev_allow").c_str());
    if (fd < 0) return 0;
    size_t n = 0;
    bc_dev_key k{}, next{};
    for (bool first = true; ::bpf_map_get_next_key(fd, first ? nullptr : &k, &next) == 0; first = false) {
        k = next;
        n += k.cgroup_id == cgid;
    }
    ::close(fd);
    return n;
}
}  // namespace

TEST_F(BeanctlTest, DeviceAllowlistIsEnforcedByTheProgram) {
    // Without a user namespace the container's root may mknod (CAP_MKNOD of the host): what
    // stops it from using a disk or kernel memory is the device program alone.
    std::string id = ct(1901);
    ASSERT_EQ(beanctl({"create", id, "--no-userns"}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    auto r = beanctl({"exec", id, "sh", "-c",
                      "mknod /tmp/null2 c 1 3 && echo x > /tmp/null2 && echo null-ok; "
                      "mknod /tmp/mem c 1 1 || echo mem-refused; mknod /tmp/sda b 8 0 || echo sda-refused"});
    EXPECT_EQ(r.out, "null-ok\nmem-refused\nsda-refused\n") << r.err;
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
    // A grant, live: the same mknod now works; revoked again, it does not.
    ASSERT_EQ(beanctl({"set", id, "--devices", "c:1:1:m"}).code, 0);
    EXPECT_EQ(beanctl({"exec", id, "mknod", "/tmp/mem", "c", "1", "1"}).code, 0);
    EXPECT_NE(beanctl({"exec", id, "head", "-c1", "/tmp/mem"}).code, 0) << "m alone does not let it be read";
    ASSERT_EQ(beanctl({"set", id, "--devices", "c:1:1:none"}).code, 0);
    EXPECT_NE(beanctl({"exec", id, "mknod", "/tmp/mem2", "c", "1", "1"}).code, 0);
}

TEST_F(BeanctlTest, SetDevicesLiveAndSaved) {
    std::string id = ct(1902);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    const std::uint64_t cgid = bc::cgroup::CtGroup(layout(), "", prefix(), 1902).id().value();
    const size_t defaults = rules_of(bpf_dir(), cgid);
    EXPECT_EQ(defaults, 9u) << "8 default rules and the switch";
    EXPECT_EQ(beanctl({"exec", id, "sh", "-c", "echo x > /dev/null"}).code, 0);
    // Revoking a default, live, not saved.
    auto r = beanctl({"set", id, "--devices", "c:1:3:none"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("not saved"), std::string::npos);
    EXPECT_NE(beanctl({"exec", id, "sh", "-c", "echo x > /dev/null"}).code, 0);
    EXPECT_EQ(slurp(etc() + "/ct/1902.conf").find("DEVICES"), std::string::npos);
    ASSERT_EQ(beanctl({"set", id, "--devices", "c:1:3:rw", "--save"}).code, 0);
    EXPECT_EQ(beanctl({"exec", id, "sh", "-c", "echo x > /dev/null"}).code, 0);
    EXPECT_NE(slurp(etc() + "/ct/1902.conf").find("DEVICES=\"c:1:3:rw\""), std::string::npos);

    // A host device node shown inside, and removed again.
    if (std::filesystem::exists("/dev/net/tun")) {
        r = beanctl({"set", id, "--devnodes", "net/tun:rw", "--save"});
        ASSERT_EQ(r.code, 0) << r.err;
        r = beanctl({"exec", id, "sh", "-c", "ls -l /dev/net/tun && exec 3<>/dev/net/tun && echo opened"});
        EXPECT_NE(r.out.find("10, 200"), std::string::npos) << r.out << r.err;
        EXPECT_NE(r.out.find("opened"), std::string::npos) << r.out << r.err;
        // It comes back after a restart, from the config.
        ASSERT_EQ(beanctl({"restart", id}).code, 0);
        EXPECT_EQ(beanctl({"exec", id, "sh", "-c", "exec 3<>/dev/net/tun && echo opened"}).out, "opened\n");
        ASSERT_EQ(beanctl({"set", id, "--devnodes", "net/tun:none", "--save"}).code, 0);
        EXPECT_NE(beanctl({"exec", id, "test", "-e", "/dev/net/tun"}).code, 0);
    } else {
        std::cerr << "no /dev/net/tun on this host: device node part not run\n";
    }
    // Stopped, the container's rules are gone from the kernel, and only they: the map is read
    // in batches, and rules of (made-up) other cgroups that span several batches stay.
    const std::uint64_t cgid_now = bc::cgroup::CtGroup(layout(), "", prefix(), 1902).id().value();
    int fd = ::bpf_obj_get((bpf_dir() + "/bc_dev_allow").c_str());
    ASSERT_GE(fd, 0);
    constexpr std::uint64_t kOthers = 1ull << 62;  // no cgroup has such an id
    auto others = [&](bool add) {
        for (__u32 i = 0; i < 700; i++) {
            bc_dev_key k{};
            k.cgroup_id = kOthers + i % 7;
            k.type = BPF_DEVCG_DEV_CHAR;
            k.major = 1;
            k.minor = i;
            __u32 acc = BPF_DEVCG_ACC_READ;
            if (add) EXPECT_EQ(::bpf_map_update_elem(fd, &k, &acc, BPF_ANY), 0);
            else ::bpf_map_delete_elem(fd, &k);
        }
    };
    others(true);
    r = beanctl({"stop", id});
    size_t kept = 0;
    for (std::uint64_t c = kOthers; c < kOthers + 7; ++c) kept += rules_of(bpf_dir(), c);
    others(false);
    ::close(fd);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(rules_of(bpf_dir(), cgid_now), 0u);
    EXPECT_EQ(kept, 700u);
}

TEST_F(BeanctlTest, SetRefusesBadInputAndChangesNothing) {
    std::string id = ct(1903);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    const std::string conf = slurp(etc() + "/ct/1903.conf");
    for (std::vector<std::string> bad : {std::vector<std::string>{"--devices", "c:1:3:q"},
                                         {"--devices", "x:1:3:r"},
                                         {"--devices", "c:4096:1:r"},
                                         {"--devnodes", "../sda:rw"},
                                         {"--devnodes", "/dev/sda:rw"},
                                         {"--hostname", "-bad-"},
                                         {"--nameserver", "1.2.3"},
                                         {}}) {
        std::vector<std::string> args{"set", id, "--save"};
        args.insert(args.end(), bad.begin(), bad.end());
        auto r = beanctl(args);
        EXPECT_EQ(r.code, 2) << bad.size() << r.err;
    }
    // Runtime errors: a node the host does not have, a stopped container without --save,
    // an unknown container.
    auto r = beanctl({"set", id, "--devnodes", "bctest-no-such-node:rw", "--save"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("/dev/bctest-no-such-node"), std::string::npos) << r.err;
    r = beanctl({"set", id, "--hostname", "h1"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("not running; use --save"), std::string::npos) << r.err;
    EXPECT_EQ(beanctl({"set", "1999", "--hostname", "h1", "--save"}).code, 1);
    EXPECT_EQ(slurp(etc() + "/ct/1903.conf"), conf) << "the config is untouched by every failure";
}

TEST_F(BeanctlTest, SetHostnameAndResolverLive) {
    std::string id = ct(1904);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    auto r = beanctl({"set", id, "--hostname", "web1.example", "--nameserver", "192.0.2.53", "--nameserver", "2001:db8::53",
                      "--searchdomain", "example", "--save"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(beanctl({"exec", id, "hostname"}).out, "web1.example\n");
    EXPECT_EQ(slurp(lib() + "/private/1904/etc/hostname"), "web1.example\n");
    std::string resolv = slurp(lib() + "/private/1904/etc/resolv.conf");
    EXPECT_NE(resolv.find("search example\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n"), std::string::npos) << resolv;
    // Written by the container's root, not the host's.
    struct stat st{};
    ASSERT_EQ(::stat((lib() + "/private/1904/etc/resolv.conf").c_str(), &st), 0);
    EXPECT_NE(st.st_uid, 0u);
    // Saved: a restart keeps them, and leaves files that say so already as they are (a
    // rewrite would truncate or replace them at every start); a file changed inside is
    // written anew. "none" clears the resolver list.
    struct stat host_before{}, resolv_before{};
    ASSERT_EQ(::stat((lib() + "/private/1904/etc/hostname").c_str(), &host_before), 0);
    ASSERT_EQ(::stat((lib() + "/private/1904/etc/resolv.conf").c_str(), &resolv_before), 0);
    ASSERT_EQ(beanctl({"restart", id}).code, 0);
    EXPECT_EQ(beanctl({"exec", id, "hostname"}).out, "web1.example\n");
    struct stat host_after{}, resolv_after{};
    ASSERT_EQ(::stat((lib() + "/private/1904/etc/hostname").c_str(), &host_after), 0);
    ASSERT_EQ(::stat((lib() + "/private/1904/etc/resolv.conf").c_str(), &resolv_after), 0);
    EXPECT_EQ(host_after.st_mtim.tv_sec, host_before.st_mtim.tv_sec);
    EXPECT_EQ(host_after.st_mtim.tv_nsec, host_before.st_mtim.tv_nsec) << "/etc/hostname was rewritten";
    EXPECT_EQ(resolv_after.st_ino, resolv_before.st_ino) << "/etc/resolv.conf was replaced";
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "echo other > /etc/hostname; echo nameserver 192.0.2.1 > /etc/resolv.conf"}).code, 0);
    ASSERT_EQ(beanctl({"restart", id}).code, 0);
    EXPECT_EQ(slurp(lib() + "/private/1904/etc/hostname"), "web1.example\n");
    EXPECT_EQ(slurp(lib() + "/private/1904/etc/resolv.conf"), resolv);
    ASSERT_EQ(beanctl({"set", id, "--nameserver", "none", "--save"}).code, 0);
    EXPECT_EQ(slurp(etc() + "/ct/1904.conf").find("192.0.2.53"), std::string::npos);
}
