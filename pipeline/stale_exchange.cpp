#include "pipeline/stale_exchange.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/autograd.h>

#include <cstdio>
#include <utility>

#include "core/counter_rng.h"
#include "core/error.h"
#include "core/index_tensor.h"

namespace halo {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// [inner | halo]: `halo` (stale rows, already scaled) is a constant of this epoch's graph; the
// gradient of `inner` is its own plus the halo gradients exchanged by StaleExchange.
class StaleFillFunction : public torch::autograd::Function<StaleFillFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& inner, const at::Tensor& halo,
                            StaleExchange* exchange, int64_t layer, bool synchronous, const at::Tensor* scale,
                            const std::string& what) {
    ctx->saved_data["exchange"] = reinterpret_cast<int64_t>(exchange);
    ctx->saved_data["layer"] = layer;
    ctx->saved_data["synchronous"] = synchronous;
    ctx->saved_data["what"] = what;
    ctx->saved_data["scale"] = *scale;
    return at::cat({inner, halo});
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto& exchange = *reinterpret_cast<StaleExchange*>(ctx->saved_data["exchange"].toInt());
    const at::Tensor& grad = grads[0];
    const int64_t n = exchange.exchanges_.front()->plan().num_inner;
    const at::Tensor halo = rescaled_rows(grad.narrow(0, n, grad.size(0) - n), ctx->saved_data["scale"].toTensor());
    const at::Tensor arrived =
        exchange.exchange_gradients(static_cast<int>(ctx->saved_data["layer"].toInt()), halo.contiguous(),
                                    ctx->saved_data["synchronous"].toBool(), ctx->saved_data["what"].toStringRef());
    return {grad.narrow(0, 0, n) + arrived,
            at::Tensor(),
            at::Tensor(),
            at::Tensor(),
            at::Tensor(),
            at::Tensor(),
            at::Tensor()};
  }
};

StaleExchange::StaleExchange(const HaloPlan& full, std::shared_ptr<Communicator> comm, const BoundarySampler* sampler,
                             const StaleOptions& options)
    : options_(options), sampler_(sampler), num_halo_(full.num_halo), comm_(comm) {
  if (options.progress_thread() && comm->thread_safe()) progress_ = std::make_unique<ProgressThread>();
  if (!(options.gamma() >= 0 && options.gamma() < 1)) {
    throw UsageError(fmt::format("smoothing gamma must be in [0, 1), got {}", options.gamma()));
  }
  for (int i = 0; i < (sampler ? 3 : 1); ++i) {
    exchanges_.push_back(std::make_unique<HaloExchange>(full, comm));
    exchanges_.back()->set_progress(progress_.get());  // null: progress_all() instead
    planned_.push_back(-1);
    halo_index_.emplace_back();
  }
}

StaleExchange::~StaleExchange() = default;

std::vector<std::pair<std::string, at::Tensor*>> StaleExchange::state_parts(Layer& s) {
  return {{"rows", &s.ready_rows},
          {"gradients", &s.ready_gradients},
          {"row_average", &s.row_average},
          {"row_seen", &s.row_seen},
          {"gradient_average", &s.gradient_average}};
}

StaleExchange::Layer& StaleExchange::layer(int l) {
  if (l < 1 || l >= kFirstTag)
    throw Error(fmt::format("StaleExchange: layer {} is out of range (1..{})", l, kFirstTag - 1));
  if (static_cast<size_t>(l) >= layers_.size()) layers_.resize(static_cast<size_t>(l) + 1);
  return layers_[static_cast<size_t>(l)];
}

void StaleExchange::set_precision(HaloPrecision precision, uint64_t seed) {
  precision_ = precision;
  rounding_seed_ = seed;
  for (auto& e : exchanges_) e->set_precision(precision);
}

void StaleExchange::begin_epoch(int64_t epoch) {
  send_gradients();
  epoch_ = epoch;
  for (int64_t e : {epoch, epoch + 1}) {
    const int s = slot(e);
    if (!sampler_ || planned_[s] == e) continue;
    // The slot's previous plan (epoch e - 3) has nothing in flight any more: its rows were
    // received in epoch e - 2 and its gradients added in epoch e - 1.
    const BoundarySample sample = sampler_->draw(e);
    exchanges_[s] = std::make_unique<HaloExchange>(sample.plan, comm_);
    exchanges_[s]->set_progress(progress_.get());
    exchanges_[s]->set_precision(precision_);
    planned_[s] = e;
    halo_index_[s] = index_tensor(sample.halo, device());
  }
  for (auto& exchange : exchanges_) exchange->set_rounding_key(stream_key(rounding_seed_, epoch));
}

void StaleExchange::progress_all() {
  if (progress_) return;
  for (const Layer& state : layers_) {
    for (const std::optional<InFlight>* flight : {&state.rows, &state.gradients}) {
      if (*flight) exchanges_[(*flight)->slot]->progress((*flight)->pending);
    }
  }
}

at::Tensor StaleExchange::fill(const at::Tensor& inner, int l, const at::Tensor& scale, const std::string& what) {
  progress_all();
  Layer& state = layer(l);
  const int tag = kFirstTag + l;
  HaloExchange& now = *exchanges_[slot(epoch_)];
  const bool synchronous = !state.rows && !state.ready_rows.defined();
  at::Tensor rows;
  if (synchronous) {
    rows = now.bcast(inner.detach().contiguous(), tag, what + " features");
  } else if (state.rows) {
    rows = arrived_rows(state);
  } else {
    rows = std::exchange(state.ready_rows, at::Tensor());
  }
  const int next = slot(epoch_ + 1);
  state.rows = InFlight{exchanges_[next]->bcast_begin(inner.detach().contiguous(), {}, tag, what + " features"), next};
  if (options_.smooth_features()) rows = smooth_rows(state, rows);
  return StaleFillFunction::apply(inner, rescaled_rows(rows, scale), this, static_cast<int64_t>(l), synchronous, &scale,
                                  what);
}

// avg = gamma * avg + (1 - gamma) * rows, per halo node of the full plan; a node's first rows
// start its average.
at::Tensor StaleExchange::smooth_rows(Layer& state, const at::Tensor& rows) {
  const at::Tensor index =
      sampler_ ? halo_index_[slot(epoch_)] : at::arange(num_halo_, at::dtype(at::kLong).device(device()));
  if (!state.row_average.defined()) {
    state.row_average = at::zeros({num_halo_, rows.size(1)}, rows.options());
    state.row_seen = at::zeros({num_halo_, 1}, rows.options().dtype(at::kBool));
  }
  const at::Tensor seen = state.row_seen.index_select(0, index);
  const double g = options_.gamma();
  const at::Tensor average = at::where(seen, state.row_average.index_select(0, index) * g + rows * (1 - g), rows);
  state.row_average.index_copy_(0, index, average);
  state.row_seen.index_fill_(0, index, true);
  return average;
}

at::Tensor StaleExchange::exchange_gradients(int l, const at::Tensor& grad_halo, bool synchronous,
                                             const std::string& what) {
  progress_all();
  Layer& state = layer(l);
  const int tag = kFirstTag + l;
  HaloExchange& now = *exchanges_[slot(epoch_)];
  const int64_t inner = now.plan().num_inner;
  at::Tensor arrived;
  if (synchronous) {
    arrived = at::zeros({inner, grad_halo.size(1)}, grad_halo.options());
    now.reduce(grad_halo, arrived, tag, what + " gradients");
  } else if (state.gradients) {
    arrived = arrived_gradients(state);
  } else {
    arrived = std::exchange(state.ready_gradients, at::Tensor());
  }
  // For the next epoch, sent after the allreduce. A synchronous epoch's gradients serve the next
  // epoch too: sent again, they wait there as messages, not as sums over every owned row.
  held_.push_back({l, slot(epoch_), grad_halo, what});
  if (options_.smooth_gradients()) {
    const double g = options_.gamma();
    state.gradient_average =
        state.gradient_average.defined() ? state.gradient_average * g + arrived * (1 - g) : arrived;
    arrived = state.gradient_average;
  }
  return arrived;
}

at::Tensor StaleExchange::arrived_rows(Layer& s) {
  at::Tensor rows = exchanges_[s.rows->slot]->bcast_end(std::move(s.rows->pending));
  s.rows.reset();
  return rows;
}

at::Tensor StaleExchange::arrived_gradients(Layer& s) {
  at::Tensor sum = exchanges_[s.gradients->slot]->reduce_end(std::move(s.gradients->pending));
  s.gradients.reset();
  return sum;
}

void StaleExchange::send_gradients() {
  for (HeldGradients& h : held_) {
    HaloExchange& exchange = *exchanges_[h.slot];
    // The sums' rows are made when the gradients arrive: in flight for an epoch, only the
    // messages are held.
    HaloExchange::Pending pending = exchange.reduce_begin(h.halo, {}, kFirstTag + h.layer, h.what + " gradients");
    layer(h.layer).gradients = InFlight{std::move(pending), h.slot};
  }
  held_.clear();
}

c10::Dict<std::string, at::Tensor> StaleExchange::checkpoint_state() {
  send_gradients();
  c10::Dict<std::string, at::Tensor> out;
  for (size_t l = 1; l < layers_.size(); ++l) {
    Layer& s = layers_[l];
    if (s.rows) s.ready_rows = arrived_rows(s);
    if (s.gradients) s.ready_gradients = arrived_gradients(s);
    for (const auto& [part, t] : state_parts(s)) {
      if (t->defined()) out.insert(fmt::format("layer{}.{}", l, part), t->cpu());
    }
  }
  return out;
}

void StaleExchange::restore(const c10::Dict<std::string, at::Tensor>& state) {
  for (const auto& item : state) {
    const std::string& key = item.key();
    int l = 0;
    char part[32] = {};
    if (std::sscanf(key.c_str(), "layer%d.%31s", &l, part) != 2 || l < 1) {
      throw Error(fmt::format("pipeline state: unknown entry '{}'", key));
    }
    bool known = false;
    for (const auto& [name, t] : state_parts(layer(l))) {
      if (name == part) {
        *t = item.value().to(device());  // a checkpoint holds host copies
        known = true;
      }
    }
    if (!known) throw Error(fmt::format("pipeline state: unknown entry '{}'", key));
  }
}

void StaleExchange::drain() {
  held_.clear();  // never posted: the next epoch is synchronous
  for (Layer& state : layers_) {
    for (std::optional<InFlight>* flight : {&state.rows, &state.gradients}) {
      if (*flight) exchanges_[(*flight)->slot]->finish(std::move((*flight)->pending));
    }
    state.rows.reset();
    state.gradients.reset();
    state.ready_rows = state.ready_gradients = at::Tensor();
  }
}

ExchangeCounters StaleExchange::counters() const {
  ExchangeCounters sum;
  for (const auto& e : exchanges_) sum += e->counters();
  return sum;
}

std::map<int, ExchangeCounters> StaleExchange::counters_by_layer() const {
  std::map<int, ExchangeCounters> by_layer;
  for (const auto& e : exchanges_) {
    for (const auto& [tag, c] : e->counters_by_tag()) by_layer[tag - kFirstTag] += c;
  }
  return by_layer;
}

void StaleExchange::reset_counters() {
  for (auto& e : exchanges_) e->reset_counters();
}

}  // namespace halo
