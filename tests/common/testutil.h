// Helpers shared by the test tiers: temp dirs that clean themselves up, running beanctl.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace bctest {

// Runs a clean-up at the end of a scope, also when an assertion returns early.
class ScopeExit {
public:
    explicit ScopeExit(std::function<void()> f) : f_(std::move(f)) {}
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;
    ~ScopeExit() { f_(); }

private:
    std::function<void()> f_;
};

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/bctest.XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

inline void write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct RunResult {
    int code = -1;
    std::string out, err;
};

// Runs a program with arguments and optional extra environment; captures stdout and stderr.
inline RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                     const std::string& input = "") {
    char out_tmpl[] = "/tmp/bctest-out.XXXXXX";
    char err_tmpl[] = "/tmp/bctest-err.XXXXXX";
    int out_fd = ::mkstemp(out_tmpl), err_fd = ::mkstemp(err_tmpl);
    int in_pipe[2];
    if (::pipe(in_pipe) < 0) return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::close(in_pipe[1]);
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> av;
        for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
        av.push_back(nullptr);
        ::execvp(av[0], av.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    if (!input.empty()) (void)!::write(in_pipe[1], input.data(), input.size());
    ::close(in_pipe[1]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    RunResult r;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.out = slurp(out_tmpl);
    r.err = slurp(err_tmpl);
    ::close(out_fd);
    ::close(err_fd);
    ::unlink(out_tmpl);
    ::unlink(err_tmpl);
    return r;
}

}  // namespace bctest
