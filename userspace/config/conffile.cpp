#include "config/conffile.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fmt/format.h>

#include "core/fs.h"

namespace bc {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}
}  // namespace

bool ConfFile::valid_key(std::string_view key) {
    if (key.empty()) return false;
    if (!(std::isupper(static_cast<unsigned char>(key[0])) || key[0] == '_')) return false;
    for (char c : key)
        if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
            return false;
    return true;
}

std::optional<unsigned> ConfFile::parse_uint(std::string_view value, unsigned lo, unsigned hi) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size() || v < lo || v > hi) return std::nullopt;
    return v;
}

bool ConfFile::valid_value(std::string_view value) {
    for (char c : value)
        if (c == '"' || c == '\\' || c == '\n' || c == '`' || static_cast<unsigned char>(c) < 0x20)
            return false;
    return true;
}

Result<ConfFile> ConfFile::parse(std::string_view text, std::string name) {
    ConfFile cf;
    cf.name_ = std::move(name);
    int lineno = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++lineno;
        auto err = [&](std::string_view why) { return fail(fmt::format("{}:{}: {}", cf.name_, lineno, why)); };
        std::string_view s = trim(raw);
        if (s.empty() || s[0] == '#') {
            cf.lines_.push_back(Line{std::string(raw), {}, {}, lineno});
            continue;
        }
        auto eq = s.find('=');
        if (eq == std::string_view::npos) return err("expected KEY=\"value\"");
        std::string_view key = s.substr(0, eq);
        if (key.starts_with("export ")) key = trim(key.substr(7));
        if (!valid_key(key)) return err(fmt::format("invalid key '{}' (upper-case letters, digits and _)", key));
        std::string_view rest = s.substr(eq + 1);
        std::string value;
        if (!rest.empty() && (rest[0] == '"' || rest[0] == '\'')) {
            char q = rest[0];
            size_t end = rest.find(q, 1);
            if (end == std::string_view::npos) return err(fmt::format("unterminated {} quote", q == '"' ? "double" : "single"));
            value = std::string(rest.substr(1, end - 1));
            std::string_view tail = trim(rest.substr(end + 1));
            if (!tail.empty() && tail[0] != '#') return err(fmt::format("unexpected text after the closing quote: '{}'", tail));
            // Values are literal; only $VEID is expanded, and only in path keys. Shell syntax
            // that a sourcing script would execute is refused rather than silently kept.
            if (value.find('\\') != std::string::npos || value.find("$(") != std::string::npos ||
                value.find('`') != std::string::npos)
                return err("escapes, $( and ` are not supported inside values");
        } else {
            auto hash = rest.find(" #");
            std::string_view v = trim(hash == std::string_view::npos ? rest : rest.substr(0, hash));
            for (char c : v)
                if (c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '\\' || c == '`' || c == '(')
                    return err("an unquoted value must not contain spaces, quotes, \\, ( or `");
            value = std::string(v);
        }
        cf.lines_.push_back(Line{{}, std::string(key), std::move(value), lineno});
    }
    return cf;
}

Result<ConfFile> ConfFile::load(const std::string& path) {
    auto text = fs::read_file(path);
    if (!text) return std::unexpected(text.error());
    return parse(*text, path);
}

std::optional<std::string> ConfFile::get(std::string_view key) const {
    for (auto it = lines_.rbegin(); it != lines_.rend(); ++it)
        if (it->key == key) return it->value;
    return std::nullopt;
}

int ConfFile::line_of(std::string_view key) const {
    for (auto it = lines_.rbegin(); it != lines_.rend(); ++it)
        if (it->key == key) return it->lineno;
    return 0;
}

void ConfFile::set(std::string_view key, std::string_view value) {
    for (auto it = lines_.rbegin(); it != lines_.rend(); ++it)
        if (it->key == key) {
            it->value = value;
            return;
        }
    lines_.push_back(Line{{}, std::string(key), std::string(value), 0});
}

std::string ConfFile::serialize() const {
    std::string out;
    for (const auto& l : lines_) {
        if (l.key.empty())
            out += l.raw;
        else
            out += fmt::format("{}=\"{}\"", l.key, l.value);
        out += '\n';
    }
    return out;
}

Result<> ConfFile::save(const std::string& path, unsigned mode) const {
    for (const auto& l : lines_)
        if (!l.key.empty() && !valid_value(l.value))
            return fail(fmt::format("{}: value of {} contains a character that cannot be saved", path, l.key));
    return fs::write_atomic(path, serialize(), mode);
}

}  // namespace bc
