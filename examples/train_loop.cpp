// train_loop.cpp: checkpoints pushed from a C++ training loop with hfgit.hpp (the header-only C++17 wrapper).
//
//   g++ -std=c++17 train_loop.cpp $(pkg-config --cflags --libs hfgit) -o train_loop
//   HF_TOKEN=... ./train_loop ./ckpt user/model 3
//
// Every step writes a checkpoint inside a commit scope whose push is queued, so training goes on while it
// uploads; a step whose checkpoint writing throws leaves the scope by the exception and pushes nothing.
#include "hfgit.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

static void write_checkpoint(const std::string &path, int step)
{
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 4096; i++)
        f << "step " << step << " weight " << i * step << '\n';
    if (!f)
        throw std::runtime_error("cannot write " + path);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s DIR REPO_ID [STEPS]\n", argv[0]);
        return 2;
    }
    int steps = argc > 3 ? std::atoi(argv[3]) : 3;
    try {
        hfgit::library lib;
        hfgit::repo::options o;
        o.clone_from = argv[2];
        hfgit::repo repo(argv[1], o);
        std::atomic<int> finished{0};
        repo.on_command_done([&finished](hfgit::command c) {
            std::printf("done %s status %d\n", c.title().c_str(), c.status());
            finished++;
        });
        for (int step = 1; step <= steps; step++) {
            hfgit::commit_scope scope(repo, "checkpoint " + std::to_string(step), false);
            write_checkpoint(repo.path("checkpoint.txt"), step);
            scope.finish(); // errors as exceptions; the destructor would end it too, quietly
            std::printf("step %d queued %s\n", step, scope.queued().commit_id().c_str());
        }
        try {
            hfgit::commit_scope scope(repo, "broken step", false);
            write_checkpoint(repo.path("checkpoint.txt"), 999);
            throw std::runtime_error("the loss is NaN");
        } catch (const std::runtime_error &e) {
            std::printf("step failed (%s): nothing pushed\n", e.what());
        }
        int failed = repo.wait_for_commands(600000);
        std::printf("pushes %d failed %d callbacks %d head %s\n", steps, failed, finished.load(),
                    repo.head_hash().c_str());
        // a push with its own callback (instead of on_command_done's), e.g. to tell which checkpoint landed
        std::atomic<int> own{0};
        repo.push_async([&own](hfgit::command c) {
            std::printf("own callback %s status %d\n", c.title().c_str(), c.status());
            own++;
        });
        failed = repo.wait_for_commands(600000); // all failures so far
        std::printf("own callbacks %d repository callbacks %d\n", own.load(), finished.load());
        try {
            repo.add_tag("", "", "");
        } catch (const hfgit::error &e) {
            std::printf("error code %d (%s)\n", e.code(), hf_error_code_name(e.code()));
        }
        return failed == 0 ? 0 : 1;
    } catch (const hfgit::error &e) {
        std::fprintf(stderr, "train_loop: %s (%s)\n", e.what(), hf_error_code_name(e.code()));
        return 1;
    }
}
