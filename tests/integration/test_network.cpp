// Routed networking: one veth pair per container (host side bc<CTID>), host routes to the
// container's addresses, a default route inside, and the host side's source guard. All
// traffic stays between the host side of these veths and the containers' namespaces.
#include <arpa/inet.h>
#include <fcntl.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "fixture.h"
#include "net/rtnl.h"

using namespace bctest;

namespace {
// Routes in the host's main table that go out of a link (IPv4 and IPv6, from /proc).
std::vector<std::string> host_routes(const std::string& ifname) {
    std::vector<std::string> out;
    std::istringstream v4(slurp("/proc/net/route"));
    for (std::string line; std::getline(v4, line);) {
        std::istringstream f(line);
        std::string dev, dst;
        f >> dev >> dst;
        if (dev != ifname) continue;
        unsigned long d = std::stoul(dst, nullptr, 16);
        in_addr a{static_cast<in_addr_t>(d)};
        out.push_back(inet_ntoa(a));
    }
    std::istringstream v6(slurp("/proc/net/ipv6_route"));
    for (std::string line; std::getline(v6, line);) {
        std::istringstream f(line);
        std::string dst, plen, x, dev;
        f >> dst >> plen;
        for (int i = 0; i < 7; ++i) f >> x;
        f >> dev;
        // Host routes (/128) only, and not the host side's own fe80::1 (a local route).
        if (dev != ifname || plen != "80" || dst.starts_with("fe80")) continue;
        in6_addr a{};
        for (int i = 0; i < 16; ++i) a.s6_addr[i] = static_cast<uint8_t>(std::stoul(dst.substr(2 * i, 2), nullptr, 16));
        char buf[INET6_ADDRSTRLEN];
        out.push_back(inet_ntop(AF_INET6, &a, buf, sizeof buf));
    }
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

void send_udp(int family, const std::string& dst, int port, const std::string& text) {
    int s = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<uint16_t>(port));
        ::inet_pton(AF_INET, dst.c_str(), &a->sin_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<uint16_t>(port));
        ::inet_pton(AF_INET6, dst.c_str(), &a->sin6_addr);
        len = sizeof *a;
    }
    EXPECT_EQ(::sendto(s, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&ss), len), static_cast<ssize_t>(text.size()))
        << dst << ": " << std::strerror(errno);
    ::close(s);
}

std::uint64_t spoofed_drops(const std::string& bpf_dir) {
    int fd = ::bpf_obj_get((bpf_dir + "/bc_net_spoofed").c_str());
    if (fd < 0) return 0;
    int ncpu = libbpf_num_possible_cpus();
    std::vector<std::uint64_t> v(static_cast<size_t>(ncpu));
    __u32 k = 0;
    std::uint64_t sum = 0;
    if (::bpf_map_lookup_elem(fd, &k, v.data()) == 0)
        for (auto x : v) sum += x;
    ::close(fd);
    return sum;
}
}  // namespace

class NetworkTest : public BeanctlTest {
protected:
    std::string start(unsigned id, std::vector<std::string> ips) {
        std::string s = ct(id);
        EXPECT_EQ(beanctl({"create", s}).code, 0);
        std::filesystem::copy_file(HELPER_DIR "/net", lib() + "/private/" + s + "/net");
        std::vector<std::string> args{"set", s, "--save"};
        for (const auto& ip : ips) args.insert(args.end(), {"--ipadd", ip});
        if (!ips.empty()) {
            EXPECT_EQ(beanctl(args).code, 0);
        }
        auto r = beanctl({"start", s});
        EXPECT_EQ(r.code, 0) << r.err;
        return s;
    }
    // A UDP listener in the container, in the background, writing to /tmp/recv-PORT.
    std::string listen(const std::string& id, int port, int ms = 4000) {
        std::string file = fmt::format("/tmp/recv-{}", port);
        EXPECT_EQ(beanctl({"exec", id, "sh", "-c", fmt::format("/net recv {} {} > {} 2>&1 &", port, ms, file)}).code, 0);
        std::string host_file = lib() + "/private/" + id + file;
        for (int i = 0; i < 300 && slurp(host_file).find("listening") == std::string::npos; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return host_file;
    }
    static std::string wait_for(const std::string& file, const std::string& text) {
        for (int i = 0; i < 300 && slurp(file).find(text) == std::string::npos; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return slurp(file);
    }
};

TEST_F(NetworkTest, RoutedModeHostAndContainersReachEachOther) {
    std::string a = start(1951, {"10.199.51.1", "fd00:bc:51::1/64"}), b = start(1952, {"10.199.51.2/24"});
    // The host side and its routes; the container's side and its default routes.
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/bc1951"));
    auto routes = host_routes("bc1951");
    EXPECT_TRUE(has(routes, "10.199.51.1")) << routes.size();
    EXPECT_TRUE(has(routes, "fd00:bc:51::1"));
    auto r = beanctl({"exec", a, "sh", "-c", "ip -4 addr show eth0; ip route; ip -6 route"});
    EXPECT_NE(r.out.find("inet 10.199.51.1/32"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("default via 169.254.0.1 dev eth0 onlink"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("default via fe80::1 dev eth0"), std::string::npos) << r.out;
    EXPECT_EQ(beanctl({"list", "-H", "-o", "ip"}).out.find("10.199.51.1 fd00:bc:51::1/64"), 0u);

    // Host -> container, IPv4 and IPv6.
    std::string in_a = listen(a, 7001);
    send_udp(AF_INET, "10.199.51.1", 7001, "from-host");
    send_udp(AF_INET6, "fd00:bc:51::1", 7001, "from-host6");
    std::string got = wait_for(in_a, "from-host6");
    EXPECT_NE(got.find("from-host from 169.254.0.1"), std::string::npos) << got;
    EXPECT_NE(got.find("from-host6 from "), std::string::npos) << got;

    // Container -> host (the host side's address).
    int hs = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(7002);
    ASSERT_EQ(::bind(hs, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    ASSERT_EQ(beanctl({"exec", b, "/net", "send", "169.254.0.1", "7002", "from-b"}).code, 0);
    pollfd p{hs, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 3000), 1);
    char buf[64] = {};
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ASSERT_GT(::recvfrom(hs, buf, sizeof buf - 1, 0, reinterpret_cast<sockaddr*>(&from), &fl), 0);
    ::close(hs);
    EXPECT_STREQ(buf, "from-b");
    EXPECT_STREQ(inet_ntoa(from.sin_addr), "10.199.51.2");

    // Container -> container, through the host.
    std::string in_b = listen(b, 7003);
    ASSERT_EQ(beanctl({"exec", a, "/net", "send", "10.199.51.2", "7003", "a-to-b"}).code, 0);
    EXPECT_NE(wait_for(in_b, "a-to-b").find("a-to-b from 10.199.51.1"), std::string::npos) << slurp(in_b);
}

TEST_F(NetworkTest, SpoofedSourcesAreDroppedAtTheHostSide) {
    std::string a = start(1953, {"10.199.53.1", "fd00:bc:53::1"}), b = start(1954, {"10.199.53.2", "fd00:bc:53::2"});
    std::string in_b = listen(b, 7004);
    const std::uint64_t drops = spoofed_drops(bpf_dir());
    // As B, as an address nobody has, and over IPv6 (where no reverse-path filter helps).
    EXPECT_EQ(beanctl({"exec", a, "/net", "spoof", "10.199.53.2", "10.199.53.2", "7004", "spoofed-as-b"}).code, 0);
    EXPECT_EQ(beanctl({"exec", a, "/net", "spoof", "10.199.99.9", "10.199.53.2", "7004", "spoofed-other"}).code, 0);
    EXPECT_EQ(beanctl({"exec", a, "/net", "spoof", "fd00:bc:53::9", "fd00:bc:53::2", "7004", "spoofed6"}).code, 0);
    // The same raw path with A's own address passes: what is dropped is the source.
    EXPECT_EQ(beanctl({"exec", a, "/net", "spoof", "10.199.53.1", "10.199.53.2", "7004", "honest"}).code, 0);
    std::string got = wait_for(in_b, "honest");
    EXPECT_NE(got.find("honest from 10.199.53.1"), std::string::npos) << got;
    EXPECT_EQ(got.find("spoofed"), std::string::npos) << got;
    // (The IPv6 one may wait for neighbour discovery of the gateway first.)
    for (int i = 0; i < 300 && spoofed_drops(bpf_dir()) - drops < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(spoofed_drops(bpf_dir()) - drops, 3u) << "the guard dropped exactly the three spoofed packets";
    EXPECT_EQ(slurp(in_b).find("spoofed"), std::string::npos) << slurp(in_b);
}

TEST_F(NetworkTest, IpdelRemovesAddressAndRouteAndStopRemovesTheVeth) {
    std::string a = start(1955, {"10.199.55.1", "10.199.55.11"});
    ASSERT_EQ(beanctl({"set", a, "--ipdel", "10.199.55.1", "--save"}).code, 0);
    auto routes = host_routes("bc1955");
    EXPECT_FALSE(has(routes, "10.199.55.1"));
    EXPECT_TRUE(has(routes, "10.199.55.11"));
    auto r = beanctl({"exec", a, "ip", "-4", "addr", "show", "eth0"});
    EXPECT_EQ(r.out.find("10.199.55.1/"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("10.199.55.11/"), std::string::npos) << r.out;
    EXPECT_NE(slurp(etc() + "/ct/1955.conf").find("IP_ADDRESS=\"10.199.55.11\""), std::string::npos);
    // Added live, then every address removed.
    ASSERT_EQ(beanctl({"set", a, "--ipadd", "fd00:bc:55::1"}).code, 0);
    EXPECT_TRUE(has(host_routes("bc1955"), "fd00:bc:55::1"));
    ASSERT_EQ(beanctl({"set", a, "--ipdel", "all"}).code, 0);
    EXPECT_TRUE(host_routes("bc1955").empty());
    // Bad input changes nothing.
    EXPECT_EQ(beanctl({"set", a, "--ipadd", "10.199.55.300"}).code, 2);
    EXPECT_EQ(beanctl({"set", a, "--ipadd", "127.0.0.1"}).code, 2);
    EXPECT_EQ(beanctl({"set", a, "--ipdel", "10.9.9.9"}).code, 1);
    ASSERT_EQ(beanctl({"stop", a}).code, 0);
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/bc1955"));
    EXPECT_TRUE(host_routes("bc1955").empty());
}

TEST_F(NetworkTest, FirstAddressOfARunningContainerBringsItsLink) {
    // Without addresses a container has loopback only.
    std::string a = start(1956, {});
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/bc1956"));
    EXPECT_EQ(beanctl({"exec", a, "cat", "/proc/net/dev"}).out.find("eth0"), std::string::npos);
    ASSERT_EQ(beanctl({"set", a, "--ipadd", "10.199.56.1"}).code, 0);
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/bc1956"));
    EXPECT_TRUE(has(host_routes("bc1956"), "10.199.56.1"));
    std::string in_a = listen(a, 7005);
    send_udp(AF_INET, "10.199.56.1", 7005, "hello");
    EXPECT_NE(wait_for(in_a, "hello").find("hello from 169.254.0.1"), std::string::npos) << slurp(in_a);
    EXPECT_EQ(slurp(etc() + "/ct/1956.conf").find("IP_ADDRESS"), std::string::npos) << "not saved";
}


TEST_F(NetworkTest, NetdevAddMovesAHostInterfaceInAndBack) {
    // A dummy interface of the test's own, moved into the container and back. Kernels
    // without the dummy driver get one end of a veth pair instead (the other stays here).
    const std::string dummy = fmt::format("bct{}d0", ::getpid() % 100000), peer = fmt::format("bct{}d1", ::getpid() % 100000);
    auto host = bc::net::Rtnl::open();
    ASSERT_TRUE(host) << host.error().msg;
    auto made = host->add_link(dummy, "dummy");
    if (!made) {
        int self = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        made = host->add_veth(dummy, peer, self);
        ::close(self);
    }
    ASSERT_TRUE(made) << made.error().msg;
    ScopeExit gone([&] {
        for (const auto& n : {dummy, peer})
            if (auto idx = host->ifindex(n); idx && *idx) (void)host->del_link(**idx);
    });
    std::string a = start(1957, {});
    auto r = beanctl({"set", a, "--netdev_add", dummy, "--save"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + dummy)) << "gone from the host";
    EXPECT_NE(beanctl({"exec", a, "cat", "/proc/net/dev"}).out.find(dummy + ":"), std::string::npos);
    EXPECT_NE(slurp(etc() + "/ct/1957.conf").find("NETDEV=\"" + dummy + "\""), std::string::npos);
    // Stop gives it back (a virtual interface would die with the namespace otherwise), and
    // start takes it again, from the config.
    ASSERT_EQ(beanctl({"stop", a}).code, 0);
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/" + dummy)) << "returned at stop";
    ASSERT_EQ(beanctl({"start", a}).code, 0);
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/" + dummy));
    ASSERT_EQ(beanctl({"set", a, "--netdev_del", dummy, "--save"}).code, 0);
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/" + dummy));
    EXPECT_EQ(beanctl({"exec", a, "cat", "/proc/net/dev"}).out.find(dummy + ":"), std::string::npos);
    // Names that are not a host interface a container may take.
    EXPECT_EQ(beanctl({"set", a, "--netdev_add", "lo"}).code, 2);
    EXPECT_EQ(beanctl({"set", a, "--netdev_add", "bc1957"}).code, 2);
    EXPECT_EQ(beanctl({"set", a, "--netdev_add", "../x"}).code, 2);
    r = beanctl({"set", a, "--netdev_add", "bctnosuch0"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("the host has no interface bctnosuch0"), std::string::npos) << r.err;
}

TEST_F(NetworkTest, BridgedInterfaceJoinsAHostBridge) {
    // A bridge of the test's own with an address: the container, configuring its side
    // itself, is on that segment.
    const std::string br = fmt::format("bct{}br", ::getpid() % 100000);
    auto host = bc::net::Rtnl::open();
    ASSERT_TRUE(host) << host.error().msg;
    auto made = host->add_link(br, "bridge");
    ASSERT_TRUE(made) << made.error().msg;
    ScopeExit gone([&] {
        if (auto idx = host->ifindex(br); idx && *idx) (void)host->del_link(**idx);
    });
    int br_if = host->ifindex(br).value().value();
    ASSERT_TRUE(host->add_addr(br_if, bc::parse_ip("10.199.60.254/24").value(), true, false));
    ASSERT_TRUE(host->set_up(br_if));

    std::string a = start(1958, {});
    auto r = beanctl({"set", a, "--netif_add", "eth1,02:00:00:00:19:58,,," + br, "--save"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(slurp(etc() + "/ct/1958.conf").find("NETIF=\"ifname=eth1,mac=02:00:00:00:19:58,host_ifname=bc1958.0,bridge=" + br + "\""),
              std::string::npos)
        << slurp(etc() + "/ct/1958.conf");
    EXPECT_EQ(std::filesystem::read_symlink("/sys/class/net/bc1958.0/master").filename(), br);
    r = beanctl({"exec", a, "sh", "-c", "cat /sys/class/net/eth1/address && ip addr add 10.199.60.1/24 dev eth1"});
    EXPECT_EQ(r.out, "02:00:00:00:19:58\n") << r.err;
    std::string in_a = listen(a, 7006);
    send_udp(AF_INET, "10.199.60.1", 7006, "over-the-bridge");
    EXPECT_NE(wait_for(in_a, "over-the-bridge").find("over-the-bridge from 10.199.60.254"), std::string::npos) << slurp(in_a);
    // Restart: made again from the config; removed live; and stop removes the host side.
    ASSERT_EQ(beanctl({"restart", a}).code, 0);
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/bc1958.0"));
    ASSERT_EQ(beanctl({"set", a, "--netif_del", "eth1", "--save"}).code, 0);
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/bc1958.0"));
    ASSERT_EQ(beanctl({"set", a, "--netif_add", "eth2"}).code, 0);
    EXPECT_TRUE(std::filesystem::exists("/sys/class/net/bc1958.0")) << "the first free host name";
    EXPECT_EQ(beanctl({"set", a, "--netif_add", "eth3,,,,bctnosuchbr"}).code, 1);
    EXPECT_EQ(beanctl({"set", a, "--netif_add", "eth3,zz"}).code, 2);
    ASSERT_EQ(beanctl({"stop", a}).code, 0);
    EXPECT_FALSE(std::filesystem::exists("/sys/class/net/bc1958.0"));
}

// Traffic is counted on the host side of the container's links (bpf/net.bpf.c): what the
// host side receives is the container's "out", what it sends the container's "in".
namespace {
struct Counts {
    std::uint64_t bytes_in = 0, packets_in = 0, bytes_out = 0, packets_out = 0;
    bool operator==(const Counts&) const = default;
    Counts operator-(const Counts& o) const {
        return {bytes_in - o.bytes_in, packets_in - o.packets_in, bytes_out - o.bytes_out, packets_out - o.packets_out};
    }
    Counts operator+(const Counts& o) const {
        return {bytes_in + o.bytes_in, packets_in + o.packets_in, bytes_out + o.bytes_out, packets_out + o.packets_out};
    }
};
std::ostream& operator<<(std::ostream& os, const Counts& c) {
    return os << "in " << c.bytes_in << " B / " << c.packets_in << " p, out " << c.bytes_out << " B / " << c.packets_out << " p";
}
Counts counted(const nlohmann::json& ubc) {
    const auto& t = ubc.at("traffic");
    return {t.at("bytes_in"), t.at("packets_in"), t.at("bytes_out"), t.at("packets_out")};
}
std::uint64_t stat_of(const std::string& ifname, const char* what) {
    return std::stoull(slurp("/sys/class/net/" + ifname + "/statistics/" + what));
}
// What the kernel's own statistics of host sides say the link carried, in the counters'
// terms (frames without their 14-byte Ethernet header; no GSO on these tests' traffic).
Counts carried(const std::vector<std::string>& host_sides) {
    Counts c;
    for (const auto& n : host_sides) {
        std::uint64_t rx = stat_of(n, "rx_packets"), tx = stat_of(n, "tx_packets");
        c = c + Counts{stat_of(n, "tx_bytes") - 14 * tx, tx, stat_of(n, "rx_bytes") - 14 * rx, rx};
    }
    return c;
}
// An Ethernet frame with an IPv4 header from `src` and `payload` more bytes: 20 + payload
// counted bytes.
std::vector<unsigned char> frame(const char* src, size_t payload) {
    std::vector<unsigned char> f(14 + 20 + payload, 0);
    f[12] = 0x08;  // ETH_P_IP
    f[14] = 0x45;  // IPv4, 20-byte header
    f[16] = static_cast<unsigned char>((20 + payload) >> 8);
    f[17] = static_cast<unsigned char>(20 + payload);
    ::inet_pton(AF_INET, src, &f[14 + 12]);
    return f;
}
}  // namespace

class TrafficTest : public NetworkTest {
protected:
    // The container's counters and the links' own statistics, read once the links have
    // been quiet for a while (neighbour discovery and the like may pass at any time).
    static std::pair<Counts, Counts> settled(const std::string& id, const std::vector<std::string>& host_sides) {
        std::pair<Counts, Counts> last{counted(ubc_json(id)), carried(host_sides)};
        for (int i = 0; i < 50; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            std::pair<Counts, Counts> now{counted(ubc_json(id)), carried(host_sides)};
            if (now == last) return now;
            last = now;
        }
        ADD_FAILURE() << "the links of container " << id << " never went quiet";
        return last;
    }
    // Nothing of ours names a deleted host side any more: no link pin, no bc_links entry,
    // no bc_link_cache entry.
    static void expect_retired(int ifindex) {
        for (const char* hook : {"in", "out"})
            EXPECT_FALSE(std::filesystem::exists(fmt::format("{}/link_net_{}_{}", bpf_dir(), ifindex, hook)));
        int links = ::bpf_obj_get((bpf_dir() + "/bc_links").c_str());
        ASSERT_GE(links, 0);
        bc_link v{};
        __u32 key = static_cast<__u32>(ifindex);
        EXPECT_NE(::bpf_map_lookup_elem(links, &key, &v), 0) << "an entry left for the deleted link";
        ::close(links);
        EXPECT_NE(cached(ifindex).ifindex, key) << "a cache entry left for the deleted link";
    }
    // The bc_link_cache entry where the programs look for the host side `ifindex` (whoever's).
    static bc_link_cached cached(int ifindex) {
        bc_link_cached e{};
        int cache = ::bpf_obj_get((bpf_dir() + "/bc_link_cache").c_str());
        EXPECT_GE(cache, 0);
        __u32 at = static_cast<__u32>(ifindex) & (BC_LINK_CACHE - 1);
        EXPECT_EQ(::bpf_map_lookup_elem(cache, &at, &e), 0);
        ::close(cache);
        return e;
    }
    static void set_cached(int ifindex, bc_link_cached e) {
        int cache = ::bpf_obj_get((bpf_dir() + "/bc_link_cache").c_str());
        ASSERT_GE(cache, 0);
        __u32 at = static_cast<__u32>(ifindex) & (BC_LINK_CACHE - 1);
        EXPECT_EQ(::bpf_map_update_elem(cache, &at, &e, BPF_ANY), 0);
        ::close(cache);
    }
};

TEST_F(TrafficTest, WhatTheLinkCarriesIsCountedAndLoopbackIsNot) {
    std::string a = start(1961, {"10.199.61.1"});
    const std::vector<std::string> link{"bc1961"};
    int hs = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(hs, 0);
    ScopeExit close_hs([&] { ::close(hs); });
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_port = htons(7011);
    ASSERT_EQ(::bind(hs, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);

    // Out: 1000 datagrams of 100 bytes to the host, 128 bytes each at the IP layer.
    auto [c0, d0] = settled(a, link);
    ASSERT_EQ(beanctl({"exec", a, "/net", "flood", "169.254.0.1", "7011", "1000", "100"}).code, 0);
    auto [c1, d1] = settled(a, link);
    EXPECT_EQ(c1 - c0, d1 - d0) << "what the link carried, without the Ethernet headers";
    EXPECT_GE((c1 - c0).packets_out, 1000u);
    EXPECT_GE((c1 - c0).bytes_out, 128000u);

    // In: 500 datagrams of 200 bytes from the host.
    for (int i = 0; i < 500; ++i) send_udp(AF_INET, "10.199.61.1", 7012, std::string(200, 'y'));
    auto [c2, d2] = settled(a, link);
    EXPECT_EQ(c2 - c1, d2 - d1);
    EXPECT_GE((c2 - c1).packets_in, 500u);
    EXPECT_GE((c2 - c1).bytes_in, 500u * 228);

    // 1000 datagrams over the container's own loopback: not on the link, not counted.
    ASSERT_EQ(beanctl({"exec", a, "/net", "flood", "127.0.0.1", "7013", "1000", "100"}).code, 0);
    auto [c3, d3] = settled(a, link);
    EXPECT_EQ(c3 - c2, d3 - d2);
    EXPECT_LT((c3 - c2).packets_out, 1000u);
}

// The programs run on synthetic frames (BPF_PROG_TEST_RUN) with a host side's index: the
// container's counters move by exactly those frames, besides what the links carried
// meanwhile; a spoofed frame is dropped and not counted; a deleted link's counts are kept.
TEST_F(TrafficTest, ProgramsCountSyntheticFramesExactlyAndDeletedLinksKeepTheirCounts) {
    std::string a = start(1962, {"10.199.62.1"});
    ASSERT_EQ(beanctl({"set", a, "--netif_add", "eth1", "--save"}).code, 0);
    const std::vector<std::string> links{"bc1962", "bc1962.0"};
    const int routed = static_cast<int>(::if_nametoindex("bc1962")), bridged = static_cast<int>(::if_nametoindex("bc1962.0"));
    ASSERT_GT(routed, 0);
    ASSERT_GT(bridged, 0);
    auto prog = [&](const char* pin) { return ::bpf_obj_get((bpf_dir() + "/" + pin).c_str()); };
    const int guard = prog("prog_net_guard"), from_ct = prog("prog_net_from_ct"), to_ct = prog("prog_net_to_ct");
    ASSERT_GE(guard, 0);
    ASSERT_GE(from_ct, 0);
    ASSERT_GE(to_ct, 0);
    ScopeExit close_progs([&] {
        for (int fd : {guard, from_ct, to_ct}) ::close(fd);
    });
    struct Case {
        int prog, ifindex;
        const char* src;
        size_t payload;
        unsigned gso_segs;
        int verdict;  // TC_ACT_OK 0, TC_ACT_SHOT 2
    } cases[] = {
        {guard, routed, "10.199.62.1", 1000, 0, 0},  // out: 1020 bytes, 1 packet
        {guard, routed, "10.199.62.9", 300, 0, 2},   // spoofed: dropped, not counted
        {to_ct, routed, "10.0.0.1", 500, 3, 0},      // in: 520 bytes, 3 packets (GSO)
        {from_ct, bridged, "10.0.0.2", 100, 0, 0},   // out: 120 bytes, 1 packet
        {to_ct, bridged, "10.0.0.1", 50, 0, 0},      // in: 70 bytes, 1 packet
    };
    // The host side of the bridged link goes down: it carries nothing from here on (the
    // test frames do not need it up).
    ASSERT_EQ(std::system("ip link set bc1962.0 down"), 0);
    // The routed link is found through its bc_link_cache entry. The bridged link's entry is
    // handed to a live link of another container with the same remainder (made up here:
    // another index, a slot of nobody's), so its frames must be found through bc_links.
    const bc_link_cached routed_entry = cached(routed), bridged_entry = cached(bridged);
    EXPECT_EQ(routed_entry.ifindex, static_cast<__u32>(routed));
    EXPECT_EQ(bridged_entry.ifindex, static_cast<__u32>(bridged));
    EXPECT_EQ(routed_entry.slot, bridged_entry.slot) << "both links count for the container";
    const bc_link_cached foreign{static_cast<__u32>(bridged) + BC_LINK_CACHE, BC_MAX_CTS - 1};
    set_cached(bridged, foreign);
    ScopeExit free_entry([&] { set_cached(bridged, {}); });
    auto [c0, d0] = settled(a, links);
    for (const auto& c : cases) {
        auto f = frame(c.src, c.payload);
        __sk_buff ctx{};
        ctx.ifindex = static_cast<__u32>(c.ifindex);
        ctx.gso_segs = c.gso_segs;
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.data(), .data_size_in = static_cast<__u32>(f.size()), .ctx_in = &ctx,
                    .ctx_size_in = sizeof ctx);
        ASSERT_EQ(::bpf_prog_test_run_opts(c.prog, &o), 0) << std::strerror(errno);
        EXPECT_EQ(static_cast<int>(o.retval), c.verdict) << c.src << " " << c.payload;
    }
    auto [c1, d1] = settled(a, links);
    const Counts frames{520 + 70, 3 + 1, 1020 + 120, 1 + 1};
    EXPECT_EQ(c1 - c0, (d1 - d0) + frames);

    // The bridged link is deleted: what it counted stays the container's. (It is down, so
    // its statistics stand still until it goes.)
    const Counts bridged_carried = carried({"bc1962.0"});
    auto r = beanctl({"set", a, "--netif_del", "eth1", "--save"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_FALSE(std::filesystem::exists("/sys/class/net/bc1962.0"));
    auto [c2, d2] = settled(a, {"bc1962"});
    EXPECT_EQ(c2 - c1, d2 - (d1 - bridged_carried));
    // Its retirement left the other link's cache entry alone.
    EXPECT_EQ(cached(bridged).ifindex, foreign.ifindex);
    EXPECT_EQ(cached(bridged).slot, foreign.slot);
}

// A new build of the programs takes over the running containers' links in place (the same
// filters, the new programs), and their counts go on.
TEST_F(TrafficTest, ANewBuildTakesOverTheRunningLinks) {
    std::string a = start(1963, {"10.199.63.1"});
    const int ifindex = static_cast<int>(::if_nametoindex("bc1963"));
    ASSERT_GT(ifindex, 0);
    // The program on each hook: a pinned tcx link's (Linux 6.6+), or a tc filter's.
    auto filter = [&](bpf_tc_attach_point where) -> __u32 {
        const std::string pin = fmt::format("{}/link_net_{}_{}", bpf_dir(), ifindex, where == BPF_TC_INGRESS ? "in" : "out");
        if (int link = ::bpf_obj_get(pin.c_str()); link >= 0) {
            bpf_link_info info{};
            __u32 len = sizeof info;
            EXPECT_EQ(::bpf_obj_get_info_by_fd(link, &info, &len), 0);
            ::close(link);
            return info.prog_id;
        }
        LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
        LIBBPF_OPTS(bpf_tc_opts, q, .handle = 1, .priority = 1);
        EXPECT_EQ(bpf_tc_query(&hook, &q), 0);
        return q.prog_id;
    };
    const __u32 in_before = filter(BPF_TC_INGRESS), out_before = filter(BPF_TC_EGRESS);
    ASSERT_NE(in_before, 0u);
    ASSERT_NE(out_before, 0u);
    ASSERT_EQ(beanctl({"exec", a, "/net", "flood", "169.254.0.1", "7014", "100", "100"}).code, 0);
    const Counts before = counted(ubc_json(a));
    ASSERT_GE(before.packets_out, 100u);

    pretend_another_build();
    start(1964, {});  // loads this build against the pinned maps

    const __u32 in_after = filter(BPF_TC_INGRESS), out_after = filter(BPF_TC_EGRESS);
    EXPECT_NE(in_after, in_before) << "the new guard runs";
    EXPECT_NE(out_after, out_before);
    auto name = [](__u32 id) {
        bpf_prog_info info{};
        __u32 len = sizeof info;
        int fd = ::bpf_prog_get_fd_by_id(id);
        if (fd >= 0) ::bpf_obj_get_info_by_fd(fd, &info, &len), ::close(fd);
        return std::string(info.name);
    };
    EXPECT_EQ(name(in_after), "bc_net_guard");
    EXPECT_EQ(name(out_after), "bc_net_to_ct");
    const Counts kept = counted(ubc_json(a));
    EXPECT_GE(kept.packets_out, before.packets_out) << "nothing lost";
    ASSERT_EQ(beanctl({"exec", a, "/net", "flood", "169.254.0.1", "7014", "100", "100"}).code, 0);
    EXPECT_GE(counted(ubc_json(a)).packets_out, kept.packets_out + 100) << "counting goes on";
    // Stop: the link goes, and with it anything of ours that named it.
    ASSERT_EQ(beanctl({"stop", a}).code, 0);
    expect_retired(ifindex);
}

// A container whose init dies takes its network namespace, and with it the veth, before
// beanctl sees it: the stop that follows still retires the link's entry and pins.
TEST_F(TrafficTest, ALinkTheKernelDeletedIsRetiredAtStop) {
    std::string a = start(1965, {"10.199.65.1"});
    const int ifindex = static_cast<int>(::if_nametoindex("bc1965"));
    ASSERT_GT(ifindex, 0);
    const pid_t init = std::stoi(slurp(run_dir() + "/ct/1965/init"));
    ASSERT_EQ(::kill(init, SIGKILL), 0);
    for (int i = 0; i < 300 && std::filesystem::exists("/sys/class/net/bc1965"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_FALSE(std::filesystem::exists("/sys/class/net/bc1965")) << "gone with the namespace";
    ASSERT_EQ(beanctl({"stop", a}).code, 0);
    expect_retired(ifindex);
}
