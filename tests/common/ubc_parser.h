// An independent reader of the /proc/user_beancounters format, written from OpenVZ's format
// strings (64-bit: "%10s  %-12s %20lu %20lu %20lu %20lu %20lu"), not from beancounter's
// formatter: it cuts every row at fixed column positions, as parsers of the real file do,
// and checks what lies between the columns.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bctest {

struct UbcRow {
    std::string resource;
    std::uint64_t held, maxheld, barrier, limit, failcnt;
};

// id -> rows, in file order. Throws std::runtime_error on anything out of place.
inline std::map<std::string, std::vector<UbcRow>> parse_ubc(const std::string& text) {
    std::map<std::string, std::vector<UbcRow>> out;
    std::vector<std::string> lines;
    for (size_t pos = 0; pos < text.size();) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) throw std::runtime_error("last line not terminated");
        lines.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    if (lines.size() < 2 || lines[0] != "Version: 2.5") throw std::runtime_error("no 'Version: 2.5' line");
    auto number = [](const std::string& line, size_t at) {
        std::string f = line.substr(at, 20);
        size_t first = f.find_first_not_of(' ');
        if (first == std::string::npos) throw std::runtime_error("empty column in: " + line);
        for (size_t i = first; i < f.size(); ++i)
            if (f[i] < '0' || f[i] > '9') throw std::runtime_error("not a number in: " + line);
        return std::stoull(f.substr(first));
    };
    const std::string header = lines[1];
    if (header.size() != 129 || header.substr(0, 24) != "       uid  resource    " ||
        header.substr(25, 20) != "                held" || header.substr(109) != "             failcnt")
        throw std::runtime_error("header out of place: " + header);
    std::string current;
    for (size_t i = 2; i < lines.size(); ++i) {
        std::string l = lines[i];
        // "%10s" does not cut a wider uid ("2147483644:" is 11 characters): the row is then
        // longer by as much, everything after the uid shifted right.
        size_t colon = l.find(':');
        if (colon != std::string::npos && colon >= 10 && l.substr(0, colon).find(' ') == std::string::npos)
            l.erase(0, colon - 9);
        if (l.size() != 129) throw std::runtime_error("row is not 129 characters: " + l);
        std::string uid = l.substr(0, 10);
        if (colon != std::string::npos && colon >= 10) uid = lines[i].substr(0, colon + 1);
        if (uid.find_first_not_of(' ') != std::string::npos) {
            if (uid.back() != ':') throw std::runtime_error("uid column without ':': " + l);
            current = uid.substr(uid.find_first_not_of(' '));
            current.pop_back();
        }
        if (current.empty()) throw std::runtime_error("row before any uid: " + l);
        if (l.substr(10, 2) != "  " || l[24] != ' ' || l[45] != ' ' || l[66] != ' ' || l[87] != ' ' || l[108] != ' ')
            throw std::runtime_error("column separators out of place: " + l);
        std::string res = l.substr(12, 12);
        res.erase(res.find_last_not_of(' ') + 1);
        out[current].push_back({res, number(l, 25), number(l, 46), number(l, 67), number(l, 88), number(l, 109)});
    }
    return out;
}

}  // namespace bctest
