// The MPI backend. Every operation is nonblocking and then polled against the deadline, so a
// rank whose peer died or never posts its side throws an Error instead of hanging in MPI.
#include "comm/mpi_communicator.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"

namespace halo {
namespace detail {
namespace {

// MPI counts are ints: larger buffers go in pieces of at most this many bytes (communicator.h,
// set_mpi_piece_bytes). Pieces of one message share source, tag and communicator, so MPI
// delivers them in order.
std::atomic<int64_t> piece_bytes{kDefaultMpiPieceBytes};

void check_mpi(int rc, int rank, const char* call, const std::string& what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw Error(fmt::format("rank {}: {} failed: {} ({})", rank, call, std::string(text, length), what));
}

void check_tensor(const at::Tensor& t, int rank, const std::string& name, const std::string& what) {
  if (!t.defined()) throw Error(fmt::format("rank {}: {} is undefined ({})", rank, name, what));
  if (!t.device().is_cpu() || !t.is_contiguous()) {
    throw Error(fmt::format("rank {}: {} must be a contiguous CPU tensor for the MPI backend, got a {}{} tensor ({})",
                            rank, name, t.is_contiguous() ? "" : "non-contiguous ", t.device().str(), what));
  }
}

MPI_Datatype mpi_type(const at::Tensor& t, int rank, const std::string& what) {
  switch (t.scalar_type()) {
    case at::kFloat:
      return MPI_FLOAT;
    case at::kDouble:
      return MPI_DOUBLE;
    case at::kLong:
      return MPI_INT64_T;
    case at::kInt:
      return MPI_INT32_T;
    default:
      throw Error(fmt::format("rank {}: allreduce supports float32, float64, int32 and int64 tensors, got {} ({})",
                              rank, c10::toString(t.scalar_type()), what));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return MPI_SUM;
    case ReduceOp::max:
      return MPI_MAX;
    case ReduceOp::min:
      return MPI_MIN;
  }
  return MPI_SUM;
}

bool past(std::chrono::steady_clock::time_point t) { return std::chrono::steady_clock::now() > t; }

// Tags of the liveness checks (on their own communicator): a check carries the checking rank's
// round number, and the answer echoes it.
constexpr int kCheckTag = 1, kAnswerTag = 2;

// "rank 2" or "ranks 0, 1, 3".
std::string ranks_text(const std::vector<int>& ranks) {
  return fmt::format("{} {}", ranks.size() == 1 ? "rank" : "ranks", fmt::join(ranks, ", "));
}

// The messages of one start_exchange: receives first, then sends, each request tagged with its
// peer so a deadline error can name who did not answer.
class MpiTransfer final : public Transfer {
 public:
  MpiTransfer(std::shared_ptr<MpiCommunicator> comm, std::string what)
      : comm_(std::move(comm)), what_(std::move(what)) {}
  ~MpiTransfer() override {
    if (std::any_of(requests_.begin(), requests_.end(), [](MPI_Request r) { return r != MPI_REQUEST_NULL; })) {
      comm_->abandon(std::move(requests_), std::move(keep_));
    }
  }

  void post(bool receive, const at::Tensor& t, int peer, int tag) {
    keep_.push_back(t);
    auto* bytes = static_cast<char*>(t.data_ptr());
    const int64_t piece = piece_bytes.load();
    for (int64_t offset = 0; offset < static_cast<int64_t>(t.nbytes()); offset += piece) {
      const int count = static_cast<int>(std::min<int64_t>(piece, t.nbytes() - offset));
      requests_.push_back(MPI_REQUEST_NULL);
      peers_.push_back(peer);
      receives_.push_back(receive);
      const int rc = receive ? MPI_Irecv(bytes + offset, count, MPI_BYTE, peer, tag, comm_->comm(), &requests_.back())
                             : MPI_Isend(bytes + offset, count, MPI_BYTE, peer, tag, comm_->comm(), &requests_.back());
      check_mpi(rc, comm_->rank(), receive ? "MPI_Irecv" : "MPI_Isend", what_);
    }
  }

  void wait() override {
    const auto deadline = std::chrono::steady_clock::now() + comm_->deadline();
    Backoff backoff;
    for (;;) {
      int count = 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        count = test_some();
        if (count == 0 && past(deadline)) give_up();
      }
      if (count == MPI_UNDEFINED) return;
      if (count == 0) {
        comm_->answer_checks();
        backoff.pause();
      }
    }
  }

  bool test() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return test_some() == MPI_UNDEFINED;
  }

 private:
  // MPI_Testsome over the requests (mutex_ held): the number completed now, or MPI_UNDEFINED
  // when none is left, and then the buffers are released.
  int test_some() {
    int count = 0;
    done_.resize(requests_.size());
    check_mpi(
        MPI_Testsome(static_cast<int>(requests_.size()), requests_.data(), &count, done_.data(), MPI_STATUSES_IGNORE),
        comm_->rank(), "MPI_Testsome", what_);
    if (count == MPI_UNDEFINED && !keep_.empty()) {
      keep_.clear();
      mark_done();
    }
    return count;
  }

  // Cancels the receives and leaves the requests to the communicator, which keeps the buffers
  // alive until MPI lets go of them. The error names the ranks that stopped; when none did, the
  // first peer whose receive is still pending (else the first unfinished send).
  [[noreturn]] void give_up() {
    int peer = -1;
    for (size_t i = 0; i < requests_.size(); ++i) {
      if (requests_[i] == MPI_REQUEST_NULL) continue;
      if (receives_[i] && peer < 0) peer = peers_[i];
      if (receives_[i]) MPI_Cancel(&requests_[i]);
    }
    for (size_t i = 0; i < requests_.size() && peer < 0; ++i) {
      if (requests_[i] != MPI_REQUEST_NULL) peer = peers_[i];
    }
    comm_->abandon(std::move(requests_), std::move(keep_));
    requests_.clear();
    throw Error(comm_->deadline_error("the exchange", what_,
                                      fmt::format("rank {}: peer {} did not answer within {} s ({})", comm_->rank(),
                                                  peer, seconds_text(comm_->deadline()), what_)));
  }

  std::shared_ptr<MpiCommunicator> comm_;
  std::string what_;
  std::vector<MPI_Request> requests_;
  std::vector<int> peers_;
  std::vector<char> receives_;
  std::vector<at::Tensor> keep_;
  std::vector<int> done_;  // MPI_Testsome's output
  std::mutex mutex_;       // test() and wait() may run on different threads
};

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm world, bool thread_safe) : thread_safe_(thread_safe) {
  // A private copy of the world: Halo's tags cannot meet another library's messages.
  check_mpi(MPI_Comm_dup(world, &comm_), 0, "MPI_Comm_dup", "starting MPI");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  check_mpi(MPI_Comm_dup(comm_, &checks_), 0, "MPI_Comm_dup", "starting MPI");
  MPI_Comm_set_errhandler(checks_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  MPI_Comm host;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &host), rank_, "MPI_Comm_split_type",
            "starting MPI");
  MPI_Comm_rank(host, &local_rank_);
  MPI_Comm_size(host, &local_size_);
  MPI_Comm_free(&host);
}

void MpiCommunicator::abandon(std::vector<MPI_Request> requests, std::vector<at::Tensor> keep) {
  std::lock_guard<std::mutex> lock(abandoned_mutex_);
  for (MPI_Request r : requests) {
    if (r != MPI_REQUEST_NULL) abandoned_.push_back(r);
  }
  for (at::Tensor& t : keep) abandoned_keep_.push_back(std::move(t));
}

void MpiCommunicator::reap_abandoned() {
  std::lock_guard<std::mutex> lock(abandoned_mutex_);
  if (abandoned_.empty()) return;
  int all_done = 0;
  MPI_Testall(static_cast<int>(abandoned_.size()), abandoned_.data(), &all_done, MPI_STATUSES_IGNORE);
  if (all_done) {
    abandoned_.clear();
    abandoned_keep_.clear();
  }
}

void MpiCommunicator::answer_checks() {
  std::lock_guard<std::mutex> lock(checks_mutex_);
  for (;;) {
    int pending = 0;
    MPI_Status status;
    if (MPI_Iprobe(MPI_ANY_SOURCE, kCheckTag, checks_, &pending, &status) != MPI_SUCCESS || !pending) return;
    at::Tensor round = at::empty({1}, at::kLong);
    MPI_Recv(round.data_ptr(), 1, MPI_INT64_T, status.MPI_SOURCE, kCheckTag, checks_, MPI_STATUS_IGNORE);
    MPI_Request answer = MPI_REQUEST_NULL;
    MPI_Isend(round.data_ptr(), 1, MPI_INT64_T, status.MPI_SOURCE, kAnswerTag, checks_, &answer);
    abandon({answer}, {round});  // nobody waits for the answer: the communicator frees it once sent
  }
}

std::vector<bool> MpiCommunicator::check_liveness() {
  // Long enough for a live rank between two waits (computing a layer) to get to its next one.
  const auto window = std::min(deadline_, std::max(std::chrono::milliseconds(1000), deadline_ / 10));
  const int64_t round = ++round_;
  // MPI may still hold these after the window: abandon() keeps them alive.
  at::Tensor check = at::full({1}, round, at::kLong), heard = at::full({size_}, int64_t{-1}, at::kLong);
  int64_t* answers = heard.data_ptr<int64_t>();
  std::vector<MPI_Request> requests(2 * size_, MPI_REQUEST_NULL);  // [j]: the check to j; [size_ + j]: j's answer
  std::vector<bool> alive(size_, false);
  alive[rank_] = true;
  for (int j = 0; j < size_; ++j) {
    if (j == rank_) continue;
    MPI_Isend(check.data_ptr(), 1, MPI_INT64_T, j, kCheckTag, checks_, &requests[j]);
    MPI_Irecv(answers + j, 1, MPI_INT64_T, j, kAnswerTag, checks_, &requests[size_ + j]);
  }
  const auto end = std::chrono::steady_clock::now() + window;
  Backoff backoff;
  while (std::find(alive.begin(), alive.end(), false) != alive.end() && !past(end)) {
    answer_checks();  // ranks checking at the same time count on this one's answer too
    for (int j = 0; j < size_; ++j) {
      MPI_Request& answer = requests[size_ + j];
      int done = 0;
      if (alive[j] || answer == MPI_REQUEST_NULL || MPI_Test(&answer, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
          !done) {
        continue;
      }
      // A rank that woke up late answers an earlier check first (messages between two ranks
      // keep their order): wait on for the answer to this one.
      if (answers[j] == round) {
        alive[j] = true;
      } else {
        MPI_Irecv(answers + j, 1, MPI_INT64_T, j, kAnswerTag, checks_, &answer);
      }
    }
    backoff.pause();
  }
  for (int j = 0; j < size_; ++j) {
    if (requests[size_ + j] != MPI_REQUEST_NULL) MPI_Cancel(&requests[size_ + j]);
  }
  abandon(std::move(requests), {check, heard});
  return alive;
}

std::string MpiCommunicator::deadline_error(const std::string& op, const std::string& what,
                                            const std::string& fallback) {
  const std::vector<bool> alive = check_liveness();
  std::vector<int> silent, waiting;
  for (int j = 0; j < size_; ++j) (alive[j] ? waiting : silent).push_back(j);
  if (silent.empty()) return fallback + "; every rank answered a liveness check, so none has stopped";
  return fmt::format("rank {}: {} did not reach {} within {} s ({}); {} {} waiting", rank_, ranks_text(silent), op,
                     seconds_text(deadline_), what, ranks_text(waiting), waiting.size() == 1 ? "is" : "are");
}

void MpiCommunicator::wait_collective(std::vector<MPI_Request> requests, const at::Tensor& keep, const char* op,
                                      const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + deadline_;
  Backoff backoff;
  for (;;) {
    int all_done = 0;
    check_mpi(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &all_done, MPI_STATUSES_IGNORE), rank_,
              "MPI_Testall", what);
    if (all_done) return;
    if (past(deadline)) {
      abandon(std::move(requests), keep.defined() ? std::vector<at::Tensor>{keep} : std::vector<at::Tensor>{});
      throw Error(deadline_error(op, what,
                                 fmt::format("rank {}: the other ranks did not join {} within {} s ({})", rank_, op,
                                             seconds_text(deadline_), what)));
    }
    answer_checks();
    backoff.pause();
  }
}

void MpiCommunicator::barrier(const std::string& what) {
  reap_abandoned();
  MPI_Request request;
  check_mpi(MPI_Ibarrier(comm_, &request), rank_, "MPI_Ibarrier", what);
  wait_collective({request}, at::Tensor(), "barrier", what);
}

void MpiCommunicator::allreduce(at::Tensor& t, ReduceOp op, const std::string& what) {
  check_tensor(t, rank_, "the allreduce tensor", what);
  const MPI_Datatype type = mpi_type(t, rank_, what);
  reap_abandoned();
  std::vector<MPI_Request> requests;
  auto* bytes = static_cast<char*>(t.data_ptr());
  const int64_t piece = std::max<int64_t>(1, piece_bytes.load() / t.element_size());
  for (int64_t first = 0; first < t.numel(); first += piece) {
    requests.push_back(MPI_REQUEST_NULL);
    const int count = static_cast<int>(std::min<int64_t>(piece, t.numel() - first));
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, bytes + first * t.element_size(), count, type, mpi_op(op), comm_,
                             &requests.back()),
              rank_, "MPI_Iallreduce", what);
  }
  wait_collective(std::move(requests), t, "allreduce", what);
}

void MpiCommunicator::broadcast(at::Tensor& t, int root, const std::string& what) {
  check_tensor(t, rank_, "the broadcast tensor", what);
  if (root < 0 || root >= size_) {
    throw Error(fmt::format("rank {}: broadcast root {} is not a rank (0..{}) ({})", rank_, root, size_ - 1, what));
  }
  reap_abandoned();
  std::vector<MPI_Request> requests;
  auto* bytes = static_cast<char*>(t.data_ptr());
  const int64_t piece = piece_bytes.load();
  for (int64_t offset = 0; offset < static_cast<int64_t>(t.nbytes()); offset += piece) {
    requests.push_back(MPI_REQUEST_NULL);
    const int count = static_cast<int>(std::min<int64_t>(piece, t.nbytes() - offset));
    check_mpi(MPI_Ibcast(bytes + offset, count, MPI_BYTE, root, comm_, &requests.back()), rank_, "MPI_Ibcast", what);
  }
  wait_collective(std::move(requests), t, "broadcast", what);
}

std::unique_ptr<Transfer> MpiCommunicator::start_exchange(std::vector<at::Tensor> send, std::vector<at::Tensor> recv,
                                                          int tag, const std::string& what) {
  if (tag < 0 || tag >= kMaxTransferTag) {
    throw Error(
        fmt::format("rank {}: transfer tag {} is out of range (0..{}) ({})", rank_, tag, kMaxTransferTag - 1, what));
  }
  if (send.size() != static_cast<size_t>(size_) || recv.size() != static_cast<size_t>(size_)) {
    throw Error(
        fmt::format("rank {}: an exchange needs one send and one receive tensor per rank ({}), got {} and {} ({})",
                    rank_, size_, send.size(), recv.size(), what));
  }
  for (int j = 0; j < size_; ++j) {
    if (send[j].defined()) check_tensor(send[j], rank_, fmt::format("send[{}]", j), what);
    if (recv[j].defined()) check_tensor(recv[j], rank_, fmt::format("recv[{}]", j), what);
  }
  reap_abandoned();
  // Receives go first so that messages arriving early land in place instead of MPI's buffers.
  auto transfer = std::make_unique<MpiTransfer>(shared_from_this(), what);
  for (int j = 0; j < size_; ++j) {
    if (recv[j].defined() && recv[j].nbytes() > 0) transfer->post(true, recv[j], j, tag);
  }
  for (int j = 0; j < size_; ++j) {
    if (send[j].defined() && send[j].nbytes() > 0) transfer->post(false, send[j], j, tag);
  }
  return transfer;
}

}  // namespace detail

namespace {

std::atomic<bool> started{false};

// Starts MPI and finalizes it when the process exits normally (abort_job never gets here). MPI
// started by someone else is left to them.
struct MpiRuntime {
  MpiRuntime() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) {
      MPI_Query_thread(&provided);
      return;
    }
    // The pipelined exchange progresses messages from a second thread.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
    owned = true;
    if (provided < MPI_THREAD_MULTIPLE) {
      spdlog::warn(
          "MPI provides thread level {} < MPI_THREAD_MULTIPLE: the pipeline moves its messages only "
          "between layers",
          provided);
    }
  }
  ~MpiRuntime() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned && !finalized) MPI_Finalize();
  }
  bool owned = false;
  int provided = MPI_THREAD_SINGLE;
};

}  // namespace

std::shared_ptr<Communicator> mpi_world() {
  // Built after the runtime, so destroyed before MPI_Finalize.
  static const std::shared_ptr<detail::MpiCommunicator> world = [] {
    static MpiRuntime runtime;
    started = true;
    return std::make_shared<detail::MpiCommunicator>(MPI_COMM_WORLD, runtime.provided == MPI_THREAD_MULTIPLE);
  }();
  return world;
}

bool mpi_started() { return started; }

void set_mpi_piece_bytes(int64_t bytes) {
  if (bytes < 1 || bytes > kDefaultMpiPieceBytes) {
    throw Error(fmt::format("set_mpi_piece_bytes: {} bytes is outside 1..{}", bytes, kDefaultMpiPieceBytes));
  }
  detail::piece_bytes.store(bytes);
}
int64_t mpi_piece_bytes() { return detail::piece_bytes.load(); }

void abort_job(int code) {
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) { logger->flush(); });
  std::fflush(nullptr);
  int finalized = 1, size = 1;
  if (started) MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

}  // namespace halo
