// halo-run: mpirun for Halo's common cases, printing the exact line it runs.
//
//   halo-run train --parts DIR                        one node, one rank per part of DIR
//   halo-run --hostfile HOSTS --ranks-per-node 2 train --parts DIR
//   halo-run -n 8 --threads 4 --bind core train --parts DIR --pipeline
//
// Everything from the halo command on (train, igcn, ...) is passed to every rank unchanged.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "launch/cli_checks.h"
#include "partition/partition_dir.h"

namespace {

// mpirun runs as a child: a scheduler's or user's SIGTERM, SIGINT or SIGHUP to halo-run must
// still stop the job (mpirun then stops every rank), as it did when halo-run exec'd mpirun.
volatile sig_atomic_t mpirun_pid = 0;
void forward_signal(int signal) { kill(static_cast<pid_t>(mpirun_pid), signal); }
void forward_stop_signals(pid_t child) {
  mpirun_pid = child;
  struct sigaction action {};
  action.sa_handler = forward_signal;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaction(signal, &action, nullptr);
}

// The value of `--name VALUE` or `--name=VALUE` in args, or "".
std::string option_value(const std::vector<std::string>& args, const std::string& name) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind(name + "=", 0) == 0) return args[i].substr(name.size() + 1);
  }
  return "";
}

// Shell quoting for the printed line, so it can be pasted as it is.
std::string quoted(const std::string& arg) {
  if (!arg.empty() &&
      arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_") ==
          std::string::npos) {
    return arg;
  }
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Args {
  int ranks = 0, ranks_per_node = 0, threads = 0;
  std::string hostfile, hosts, bind = "none", mpirun = HALO_MPIEXEC, halo;
  std::vector<std::string> mca;
  bool oversubscribe = false, dry_run = false;
};

std::vector<std::string> mpirun_line(const Args& a, const std::vector<std::string>& command) {
  int ranks = a.ranks;
  const std::string parts = option_value(command, "--parts");
  if (!parts.empty()) {
    const int parts_count = halo::read_partition_meta(parts).num_parts;
    if (ranks == 0) ranks = parts_count;
    if (ranks != parts_count) {
      throw halo::UsageError(fmt::format("{} has {} parts but -n asks for {} ranks", parts, parts_count, ranks));
    }
  }
  if (ranks == 0) throw halo::UsageError("give the number of ranks (-n N), or a partition (--parts DIR) to count them");
  std::vector<std::string> line = {a.mpirun};
  if (geteuid() == 0) line.push_back("--allow-run-as-root");  // containers and CI run as root
  if (!a.hostfile.empty()) line.insert(line.end(), {"--hostfile", a.hostfile});
  if (!a.hosts.empty()) line.insert(line.end(), {"--host", a.hosts});
  if (a.ranks_per_node > 0) line.insert(line.end(), {"--map-by", fmt::format("ppr:{}:node", a.ranks_per_node)});
  line.insert(line.end(), {"--bind-to", a.bind});
  if (a.oversubscribe) line.push_back("--oversubscribe");
  for (size_t i = 0; i + 1 < a.mca.size(); i += 2) line.insert(line.end(), {"--mca", a.mca[i], a.mca[i + 1]});
  if (a.threads > 0) line.insert(line.end(), {"-x", fmt::format("OMP_NUM_THREADS={}", a.threads)});
  line.insert(line.end(), {"-np", std::to_string(ranks), a.halo});
  if (a.threads > 0) line.insert(line.end(), {"--threads", std::to_string(a.threads)});
  line.insert(line.end(), command.begin(), command.end());
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  a.halo = (std::filesystem::canonical("/proc/self/exe").parent_path() / "halo").string();  // built side by side
  CLI::App app(
      "halo-run [OPTIONS] COMMAND [ARGS...]: run a halo command on many ranks through mpirun, printing the "
      "mpirun line",
      "halo-run");
  app.prefix_command();  // the halo command and everything after it go to the ranks unchanged
  halo::cli::whole_in(app.add_option("-n,--ranks", a.ranks, "Ranks in all (default: the parts of --parts DIR)"), 1,
                      halo::cli::kMaxCount);
  app.add_option("--hostfile", a.hostfile, "OpenMPI hostfile: one host per line, with slots=N")
      ->check(CLI::ExistingFile);
  app.add_option("--hosts", a.hosts, "Hosts, comma-separated (host or host:slots)");
  halo::cli::whole_in(app.add_option("--ranks-per-node", a.ranks_per_node, "Ranks on each host"), 1,
                      halo::cli::kMaxCount);
  app.add_option("--bind", a.bind, "Pin each rank to (none lets its threads use every core)")
      ->check(CLI::IsMember({"none", "core", "socket", "numa"}));
  halo::cli::whole_in(app.add_option("--threads", a.threads,
                                     "Threads per rank (default: halo divides the host's cores among its ranks)"),
                      1, halo::max_threads());
  app.add_flag("--oversubscribe", a.oversubscribe, "Allow more ranks than cores or slots");
  app.add_option("--mca", a.mca, "An OpenMPI parameter for mpirun: --mca KEY VALUE (repeatable)")
      ->expected(2)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option("--mpirun", a.mpirun, "The mpirun to use");
  app.add_flag("--dry-run", a.dry_run, "Print the mpirun line without running it");
  try {
    app.parse(argc, argv);
    const std::vector<std::string> command = app.remaining();
    if (command.empty()) throw halo::UsageError("give the halo command to run, e.g. halo-run train --parts DIR");
    const std::vector<std::string> line = mpirun_line(a, command);
    std::vector<std::string> shown;
    for (const std::string& arg : line) shown.push_back(quoted(arg));
    std::cerr << "halo-run: " << fmt::format("{}", fmt::join(shown, " ")) << std::endl;
    if (a.dry_run) return 0;
    std::vector<char*> exec_args;
    for (const std::string& arg : line) exec_args.push_back(const_cast<char*>(arg.c_str()));
    exec_args.push_back(nullptr);
    // Run, not exec: mpirun's own failures exit 255 and a rank killed by a signal other codes,
    // which the rule of every Halo command (usage 2, runtime 1) reports as 1.
    pid_t pid = 0;
    if (const int error = posix_spawnp(&pid, exec_args[0], nullptr, nullptr, exec_args.data(), environ)) {
      std::cerr << "halo-run: cannot run " << a.mpirun << ": " << std::strerror(error) << std::endl;
      return 1;
    }
    forward_stop_signals(pid);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    return code <= 2 ? code : 1;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const halo::UsageError& e) {
    std::cerr << "halo-run: " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "halo-run: " << e.what() << std::endl;
    return 1;
  }
}
