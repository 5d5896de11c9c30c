// netprogs MODE PIN_DIR IFNAME [routed|bridged]: beancounter's boundary programs on a
// container's host side, for tests/bench/net_overhead.sh. MODE:
//   on     attaches them (the same code beanctl uses, userspace/bpf/boundary.cpp: tcx links
//          where the kernel has them, tc filters before), leaving the link's counting
//          entries as they are;
//   off    takes them off;
//   empty  attaches, in their place and the same way, a program that passes every packet
//          and does nothing: what the hooks cost with no work in them;
//   cost   prints what one run of the host side's egress program (bc_net_to_ct) costs on a
//          64-byte UDP frame of that link, by BPF_PROG_TEST_RUN (the average of many runs,
//          the lowest of 5 rounds): the link found through bc_link_cache, through bc_links
//          (its cache entry moved away for the measurement, then put back), and an empty
//          program of the same type (the test run's own cost). The frames are counted as
//          the container's.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "beancounter_abi.h"
#include "bpf/boundary.h"
#include "core/fd.h"

namespace {

int empty_program() {
    const bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    return ::bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bc_bench_empty", "GPL", insns, 2, nullptr);
}

int attach_empty(const std::string& pin_dir, int ifindex) {
    bc::Fd prog(empty_program());
    if (!prog) return std::perror("netprogs: loading an empty program"), 1;
    if (auto r = bc::bpf::attach_program_fds(pin_dir, ifindex, prog.get(), prog.get()); !r) {
        std::fprintf(stderr, "netprogs: attaching an empty program: %s\n", r.error().msg.c_str());
        return 1;
    }
    return 0;
}

// A 64-byte UDP datagram from 10.0.0.1, as an Ethernet frame.
std::vector<unsigned char> frame() {
    std::vector<unsigned char> f(ETH_HLEN + 20 + 8 + 64, 0);
    f[12] = 0x08;  // ETH_P_IP
    unsigned char* ip = f.data() + ETH_HLEN;
    ip[0] = 0x45;
    const unsigned len = 20 + 8 + 64;
    ip[2] = static_cast<unsigned char>(len >> 8);
    ip[3] = static_cast<unsigned char>(len);
    ip[8] = 64;
    ip[9] = 17;  // UDP
    ::inet_pton(AF_INET, "10.0.0.1", ip + 12);
    return f;
}

// Average ns per run: the lowest of 5 rounds of `repeat` runs.
long run_cost(int prog, int ifindex, int repeat) {
    auto f = frame();
    __sk_buff ctx{};
    ctx.ifindex = static_cast<__u32>(ifindex);
    long best = -1;
    for (int round = 0; round < 5; round++) {
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.data(), .data_size_in = static_cast<__u32>(f.size()), .ctx_in = &ctx,
                    .ctx_size_in = sizeof ctx, .repeat = repeat);
        if (::bpf_prog_test_run_opts(prog, &o) < 0) return -1;
        best = best < 0 ? o.duration : std::min<long>(best, o.duration);
    }
    return best;
}

int cost(const std::string& pin_dir, int ifindex) {
    constexpr int kRepeat = 2'000'000;
    bc::Fd prog(::bpf_obj_get((pin_dir + "/prog_net_to_ct").c_str()));
    bc::Fd cache(::bpf_obj_get((pin_dir + "/bc_link_cache").c_str()));
    bc::Fd empty(empty_program());
    if (!prog || !cache || !empty) return std::perror("netprogs: the pinned program, bc_link_cache, or an empty program"), 1;
    __u32 at = static_cast<__u32>(ifindex) & (BC_LINK_CACHE - 1);
    bc_link_cached kept{}, moved{};
    if (::bpf_map_lookup_elem(cache.get(), &at, &kept) < 0 || kept.ifindex != static_cast<__u32>(ifindex)) {
        std::fprintf(stderr, "netprogs: interface %d has no entry of its own in bc_link_cache\n", ifindex);
        return 1;
    }
    const long through_cache = run_cost(prog.get(), ifindex, kRepeat);
    long through_hash = -1;
    if (::bpf_map_update_elem(cache.get(), &at, &moved, BPF_ANY) == 0) {
        through_hash = run_cost(prog.get(), ifindex, kRepeat);
        ::bpf_map_update_elem(cache.get(), &at, &kept, BPF_ANY);
    }
    const long floor = run_cost(empty.get(), ifindex, kRepeat);
    if (through_cache < 0 || through_hash < 0 || floor < 0) return std::perror("netprogs: BPF_PROG_TEST_RUN"), 1;
    std::printf("one run of bc_net_to_ct on a 64-byte UDP frame (BPF_PROG_TEST_RUN, lowest of 5 averages of %d runs): "
                "through bc_link_cache %ld ns, through bc_links %ld ns, an empty program %ld ns\n",
                kRepeat, through_cache, through_hash, floor);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (argc < 4 || argc > 5 || (mode != "on" && mode != "off" && mode != "empty" && mode != "cost")) {
        std::fprintf(stderr, "usage: netprogs on|off|empty|cost PIN_DIR IFNAME [routed|bridged]\n");
        return 2;
    }
    const std::string pin_dir = argv[2];
    const int ifindex = static_cast<int>(::if_nametoindex(argv[3]));
    if (ifindex <= 0) {
        std::fprintf(stderr, "netprogs: no interface %s\n", argv[3]);
        return 1;
    }
    libbpf_set_print(nullptr);  // "off" twice: libbpf would report the missing qdisc
    if (mode == "cost") return cost(pin_dir, ifindex);
    bc::bpf::detach_programs(pin_dir, ifindex);  // "on" twice is on
    if (mode == "off") return 0;
    if (mode == "empty") return attach_empty(pin_dir, ifindex);
    const auto kind = argc == 5 && std::strcmp(argv[4], "bridged") == 0 ? bc::bpf::Boundary::bridged : bc::bpf::Boundary::routed;
    if (auto r = bc::bpf::attach_programs(pin_dir, ifindex, kind); !r) {
        std::fprintf(stderr, "netprogs: %s\n", r.error().msg.c_str());
        return 1;
    }
    return 0;
}
