// How beanctl prints containers: vzctl's status line, vzlist's columns, and their JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "acct/beancounters.h"
#include "container/state.h"

namespace beanctl {

// "CTID 101 exist mounted running" (+ " incomplete" for leftovers of an interrupted create).
std::string status_line(const bc::container::CtStatus& st);
nlohmann::json status_json(const bc::container::CtStatus& st);

struct ListField {
    std::string name;     // -o name
    std::string header;   // column title
    int width;            // negative: left-aligned
    int resource = -1;    // a beancounter field: its resource id
    char part = 0;        // of a beancounter field: 0 held, 'm' maxheld, 'b' barrier, 'l' limit, 'f' failcnt
    bool counted = false; // read from the counters (beancounters, cputime)
};
const std::vector<ListField>& list_fields();
// Validates "-o a,b,c"; an unknown name is a usage error (the message lists valid names).
bc::Result<std::vector<ListField>> parse_fields(const std::string& spec);
// b: the container's beancounters (may be null for fields that are not beancounters).
std::string field_value(const ListField& f, const bc::container::CtStatus& st, const bc::acct::CtBeancounters* b);
nlohmann::json field_json(const ListField& f, const bc::container::CtStatus& st, const bc::acct::CtBeancounters* b);

// One resource as vzlist -j prints it: {held, maxheld, barrier, limit, failcnt}; held,
// maxheld and failcnt are null when the resource is not counted (or the container is down).
nlohmann::json counter_json(const bc::acct::Value& v);
// A container's beancounters, vzlist -j's shape: {"ctid": N, "<resource>": {...}, ...,
// "traffic": {...}}. Dummy rows are left out.
nlohmann::json beancounters_json(const bc::acct::CtBeancounters& b);
std::string format_row(const std::vector<ListField>& fields, const std::vector<std::string>& cells);

}  // namespace beanctl
