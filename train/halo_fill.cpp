#include "train/halo_fill.h"

#include <ATen/Functions.h>
#include <torch/autograd.h>

#include "sampling/boundary_sampler.h"

namespace halo {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class HaloFillFunction : public torch::autograd::Function<HaloFillFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& inner, HaloExchange* exchange, int64_t tag,
                            const std::string& what, const at::Tensor* scale) {
    // saved_data holds IValues only: the exchange travels as its address (it outlives backward).
    ctx->saved_data["exchange"] = reinterpret_cast<int64_t>(exchange);
    ctx->saved_data["tag"] = tag;
    ctx->saved_data["what"] = what;
    // The scale is a constant, so it travels as a pointer: LibTorch 1.13's Function::apply takes
    // no undefined tensor arguments.
    ctx->saved_data["scale"] = *scale;
    // The rows arrive straight into the output's halo part: no receive buffer, no copy.
    const int64_t n = inner.size(0);
    at::Tensor out = exchange->bcast_columns(inner.contiguous(), static_cast<int>(tag), what + " features");
    at::Tensor halo = out.narrow(0, n, out.size(0) - n);
    rescale_rows_(halo, *scale);
    return out;
  }

  // d/d(inner) of [inner | bcast(inner)] is grad_inner + reduce(grad_halo): the adjoint of bcast.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto& exchange = *reinterpret_cast<HaloExchange*>(ctx->saved_data["exchange"].toInt());
    const int64_t n = exchange.plan().num_inner;
    const at::Tensor& grad = grads[0];
    at::Tensor inner = grad.narrow(0, 0, n).clone(at::MemoryFormat::Contiguous);
    const at::Tensor halo = rescaled_rows(grad.narrow(0, n, grad.size(0) - n), ctx->saved_data["scale"].toTensor());
    exchange.reduce(halo.contiguous(), inner, static_cast<int>(ctx->saved_data["tag"].toInt()),
                    ctx->saved_data["what"].toStringRef() + " gradients");
    return {inner, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// One overlapped exchange: what its two nodes pass each other.
struct InFlight : torch::CustomClassHolder {
  HaloExchange* exchange = nullptr;
  int tag = 0;
  std::string what;
  at::Tensor scale;  // optional, [num_halo]
  HaloExchange::Pending rows, gradients;
  at::Tensor inner_gradient;  // what the gradients are added into
};

c10::intrusive_ptr<InFlight> in_flight(AutogradContext* ctx) {
  return c10::static_intrusive_pointer_cast<InFlight>(ctx->saved_data["in_flight"].toCapsule());
}

// inner -> an empty token that makes the wait a later node than the post. Backward: inner's
// share of the halo gradients, once they have arrived.
class HaloPostFunction : public torch::autograd::Function<HaloPostFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& inner, c10::intrusive_ptr<InFlight> f) {
    f->rows = f->exchange->bcast_begin(inner.contiguous(), {}, f->tag, f->what + " features");
    ctx->saved_data["in_flight"] = c10::IValue::make_capsule(std::move(f));
    return at::empty({0}, inner.options());
  }
  static variable_list backward(AutogradContext* ctx, variable_list) {
    const auto f = in_flight(ctx);
    f->exchange->reduce_end(std::move(f->gradients));
    return {std::move(f->inner_gradient), at::Tensor()};
  }
};

// token -> the halo rows, scaled. Backward: posts their gradients home.
class HaloWaitFunction : public torch::autograd::Function<HaloWaitFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& /*token*/, c10::intrusive_ptr<InFlight> f) {
    at::Tensor halo = f->exchange->bcast_end(std::move(f->rows));
    rescale_rows_(halo, f->scale);
    ctx->saved_data["in_flight"] = c10::IValue::make_capsule(std::move(f));
    return halo;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto f = in_flight(ctx);
    const at::Tensor halo = rescaled_rows(grads[0], f->scale);
    f->inner_gradient = at::zeros({f->exchange->plan().num_inner, halo.size(1)}, halo.options());
    f->gradients = f->exchange->reduce_begin(halo.contiguous(), f->inner_gradient, f->tag, f->what + " gradients");
    return {at::empty({0}, halo.options()), at::Tensor()};
  }
};

}  // namespace

at::Tensor halo_fill(HaloExchange& exchange, const at::Tensor& inner, int tag, const std::string& what,
                     const at::Tensor& scale) {
  return HaloFillFunction::apply(inner, &exchange, static_cast<int64_t>(tag), what, &scale);
}

LateHalo halo_post(HaloExchange& exchange, const at::Tensor& inner, int tag, const std::string& what,
                   const at::Tensor& scale) {
  auto f = c10::make_intrusive<InFlight>();
  f->exchange = &exchange;
  f->tag = tag;
  f->what = what;
  f->scale = scale;
  const at::Tensor token = HaloPostFunction::apply(inner, f);
  return LateHalo([token, f] { return HaloWaitFunction::apply(token, f); });
}

LateHalo halo_stream(HaloExchange& exchange, const at::Tensor& inner, int tag, const std::string& what) {
  const std::string rows = what + " features";
  return LateHalo([&exchange, inner, tag, rows] { return exchange.bcast(inner, tag, rows); },
                  [&exchange, inner, tag, rows](const Block& block, const LateHalo::Visit& visit) {
                    exchange.bcast_by_peer(inner, tag, rows, [&](int64_t first, const at::Tensor& received) {
                      visit(block.halo_columns(first, received.size(0)), received);
                    });
                  });
}

}  // namespace halo
