// netprogs on|off PIN_DIR IFNAME [routed|bridged]: attaches beancounter's boundary programs
// to a container's host side, or takes them off, leaving its counting entry as it is (for
// tests/bench/net_overhead.sh, which compares the two). The same code beanctl uses
// (userspace/bpf/boundary.cpp): tcx links where the kernel has them, tc filters before.
#include <net/if.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <bpf/libbpf.h>

#include "bpf/boundary.h"

int main(int argc, char** argv) {
    if (argc < 4 || argc > 5 || (std::strcmp(argv[1], "on") != 0 && std::strcmp(argv[1], "off") != 0)) {
        std::fprintf(stderr, "usage: netprogs on|off PIN_DIR IFNAME [routed|bridged]\n");
        return 2;
    }
    const std::string pin_dir = argv[2];
    const int ifindex = static_cast<int>(::if_nametoindex(argv[3]));
    if (ifindex <= 0) {
        std::fprintf(stderr, "netprogs: no interface %s\n", argv[3]);
        return 1;
    }
    libbpf_set_print(nullptr);  // "off" twice: libbpf would report the missing qdisc
    if (std::strcmp(argv[1], "off") == 0) {
        bc::bpf::detach_programs(pin_dir, ifindex);
        return 0;
    }
    const auto kind = argc == 5 && std::strcmp(argv[4], "bridged") == 0 ? bc::bpf::Boundary::bridged : bc::bpf::Boundary::routed;
    bc::bpf::detach_programs(pin_dir, ifindex);  // "on" twice is on
    if (auto r = bc::bpf::attach_programs(pin_dir, ifindex, kind); !r) {
        std::fprintf(stderr, "netprogs: %s\n", r.error().msg.c_str());
        return 1;
    }
    return 0;
}
