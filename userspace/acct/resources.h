// The resource table (bpf/resources.def) as C++ data: names, config keys, units, row order.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "beancounter_abi.h"

namespace bc::acct {

struct ResourceInfo {
    bc_resource_id id;
    std::string_view name;        // "numproc"; "dummy" for the placeholder rows
    std::string_view config_key;  // "NUMPROC"; empty for dummies
    bc_unit unit;
    bool in_ubc;                  // printed in the user_beancounters table
};

const std::array<ResourceInfo, BC_RES_COUNT>& resources();
std::optional<ResourceInfo> find_resource(std::string_view name);

}  // namespace bc::acct
