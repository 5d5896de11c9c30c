#include "acct/resources.h"

namespace bc::acct {

namespace {
constexpr std::string_view display_name(std::string_view n) { return n.starts_with("dummy") ? "dummy" : n; }

// Upper-cased names as compile-time strings, one per resource.
#define BC_RESOURCE(name, id, unit, in_ubc) constexpr auto key_##name = [] { \
        std::array<char, sizeof(#name)> k{};                                  \
        for (size_t i = 0; i + 1 < sizeof(#name); ++i)                         \
            k[i] = (#name[i] >= 'a' && #name[i] <= 'z') ? #name[i] - 32 : #name[i]; \
        return k;                                                              \
    }();
#include "resources.def"
#undef BC_RESOURCE

constexpr std::array<ResourceInfo, BC_RES_COUNT> kTable = {{
#define BC_RESOURCE(name, id, unit, in_ubc)                                                    \
    {BC_RES_##name, display_name(#name),                                                        \
     unit == BC_UNIT_NONE ? std::string_view() : std::string_view(key_##name.data(), sizeof(#name) - 1), \
     unit, in_ubc != 0},
#include "resources.def"
#undef BC_RESOURCE
}};

// The table must list ids in order: rows are addressed by id.
constexpr bool ids_in_order() {
    for (size_t i = 0; i < kTable.size(); ++i)
        if (static_cast<size_t>(kTable[i].id) != i) return false;
    return true;
}
static_assert(ids_in_order(), "bpf/resources.def must list resource ids 0..N-1 in order");
}  // namespace

const std::array<ResourceInfo, BC_RES_COUNT>& resources() { return kTable; }

std::optional<ResourceInfo> find_resource(std::string_view name) {
    for (const auto& r : kTable)
        if (r.name == name && r.unit != BC_UNIT_NONE) return r;
    return std::nullopt;
}

}  // namespace bc::acct
