// Staging: the MPI backend carries host memory, so a rank whose tensors live on a GPU (several
// ranks sharing one, or no NCCL) copies them to the host for each message and the results back.
// Every call copies, even between host tensors: the path runs, and is tested, without a GPU.
#include <ATen/ATen.h>

#include <atomic>
#include <utility>

#include "comm/communicator.h"

namespace halo {
namespace {

class StagedTransfer final : public Transfer {
 public:
  // copies: (host buffer, device tensor) pairs written back when the messages are done.
  StagedTransfer(std::unique_ptr<Transfer> inner, std::vector<std::pair<at::Tensor, at::Tensor>> copies)
      : inner_(std::move(inner)), copies_(std::move(copies)) {}

  void wait() override {
    inner_->wait();
    seen_done();
    for (auto& [host, target] : copies_) target.copy_(host);
    copies_.clear();
  }
  bool test() override {
    const bool done = inner_->test();
    if (done) seen_done();
    return done;
  }

 private:
  void seen_done() {
    if (!marked_.exchange(true)) mark_done();
  }

  std::unique_ptr<Transfer> inner_;
  std::vector<std::pair<at::Tensor, at::Tensor>> copies_;
  std::atomic<bool> marked_{false};
};

class StagedCommunicator final : public Communicator {
 public:
  StagedCommunicator(std::shared_ptr<Communicator> inner, at::Device device)
      : inner_(std::move(inner)), device_(device) {
    rank_ = inner_->rank();
    size_ = inner_->size();
    local_rank_ = inner_->local_rank();
    local_size_ = inner_->local_size();
    deadline_ = inner_->deadline();
  }

  std::string backend() const override { return inner_->backend() + " (staged through host memory)"; }
  at::Device device() const override { return device_; }
  bool thread_safe() const override { return inner_->thread_safe(); }

  void barrier(const std::string& what) override { inner_->barrier(what); }
  void allreduce(at::Tensor& t, ReduceOp op, const std::string& what) override {
    at::Tensor host = staged(t);
    inner_->allreduce(host, op, what);
    t.copy_(host);
  }
  void broadcast(at::Tensor& t, int root, const std::string& what) override {
    at::Tensor host = staged(t);
    inner_->broadcast(host, root, what);
    t.copy_(host);
  }
  std::unique_ptr<Transfer> start_exchange(std::vector<at::Tensor> send, std::vector<at::Tensor> recv, int tag,
                                           const std::string& what) override {
    std::vector<std::pair<at::Tensor, at::Tensor>> copies;
    for (at::Tensor& s : send) s = staged(s);
    for (at::Tensor& r : recv) {
      if (!r.defined()) continue;
      at::Tensor host = at::empty_like(r, r.options().device(inner_->device()));
      copies.emplace_back(host, r);
      r = host;
    }
    return std::make_unique<StagedTransfer>(inner_->start_exchange(std::move(send), std::move(recv), tag, what),
                                            std::move(copies));
  }

 private:
  at::Tensor staged(const at::Tensor& t) const {
    return t.defined() ? t.to(inner_->device(), /*non_blocking=*/false, /*copy=*/true) : t;
  }

  std::shared_ptr<Communicator> inner_;
  at::Device device_;
};

}  // namespace

std::shared_ptr<Communicator> staged(std::shared_ptr<Communicator> inner, at::Device device) {
  return std::make_shared<StagedCommunicator>(std::move(inner), device);
}

}  // namespace halo
