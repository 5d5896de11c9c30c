// How beanctl prints containers: vzctl's status line, vzlist's columns, and their JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "container/state.h"

namespace beanctl {

// "CTID 101 exist mounted running" (+ " incomplete" for leftovers of an interrupted create).
std::string status_line(const bc::container::CtStatus& st);
nlohmann::json status_json(const bc::container::CtStatus& st);

struct ListField {
    const char* name;     // -o name
    const char* header;   // column title
    int width;            // negative: left-aligned
};
const std::vector<ListField>& list_fields();
// Validates "-o a,b,c"; an unknown name is a usage error (the message lists valid names).
bc::Result<std::vector<ListField>> parse_fields(const std::string& spec);
std::string field_value(const ListField& f, const bc::container::CtStatus& st);
std::string format_row(const std::vector<ListField>& fields, const std::vector<std::string>& cells);

}  // namespace beanctl
