#pragma once
// GraphLayer: Halo's public layer API. A layer is a LibTorch module that maps the features of
// a Block's columns [inner | halo] to its rows. Like PyG's MessagePassing, a layer writes only
// its maths -- graph_ops (aggregate, weighted_aggregate, edge_softmax, ...) plus ordinary
// LibTorch ops -- and never sees MPI: the Model exchanges halo rows between layers.
//
// A new layer follows the LibTorch pattern (torch/nn/modules/linear.h): an options struct
// with TORCH_ARG, an Impl deriving from GraphLayerImpl, and TORCH_MODULE(Name) for the holder.
// See examples/custom_layer for a GIN layer written outside Halo.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <functional>

#include "gcn/graph_ops.h"
#include "sampling/block.h"

namespace halo {

// The halo rows of a layer's input while they travel (--overlap, and every evaluation). A layer
// asks for them once: whole, or part by part where its halo columns add up (a sum over
// neighbours), which lets an evaluation hold one peer's rows at a time instead of the halo.
class LateHalo {
 public:
  // One part: `part` is the Block's rows over some of its halo columns (Block::halo_columns),
  // `rows` their features, [part.num_cols(), F]. The part lives for the call only, so parts are
  // handed over only where no graph is recorded (evaluations); a training exchange is one part.
  using Visit = std::function<void(const Block& part, const at::Tensor& rows)>;
  using Whole = std::function<at::Tensor()>;
  using Parts = std::function<void(const Block& block, const Visit& visit)>;
  // Without `parts`, the whole is the one part.
  explicit LateHalo(Whole whole, Parts parts = {});

  // Waits for the rows: [block.num_cols() - block.num_rows(), F], differentiable.
  at::Tensor operator()() const;
  // visit(part, rows) for parts that cover `block`'s halo columns once each, in a fixed order.
  void for_each_part(const Block& block, const Visit& visit) const;
  // Whether the layer asked; if not, the Model receives and drops the rows (complete()), so no
  // message is left behind.
  bool asked() const { return *asked_; }
  void complete() const;

 private:
  Whole whole_;
  Parts parts_;
  std::shared_ptr<bool> asked_ = std::make_shared<bool>(false);
};

class GraphLayerImpl : public torch::nn::Module {
 public:
  // x: [block.num_cols(), in_features] -> [block.num_rows(), out_features()].
  virtual at::Tensor forward(const Block& block, const at::Tensor& x) = 0;
  virtual int64_t out_features() const = 0;
  // Re-draws the parameters (from the global LibTorch generator).
  virtual void reset_parameters() = 0;
  // Asks the layer to apply ReLU to its output itself, where it can fuse it with its last
  // pass over memory. Layers that cannot fuse keep the default, and the Model applies it.
  virtual bool fuse_relu() { return false; }
  // Whether the layer applies its input's ReLU (the previous layer's activation) and dropout
  // itself, in forward_fused: the Model then hands them over rather than making a transformed
  // copy of x. Layers that project x first fuse both into the projection (input_project), and
  // keep no copy of the transformed x until backward.
  virtual bool fuses_input() const { return false; }
  // forward(block, apply_input_ops(x, ops)); the default computes exactly that.
  virtual at::Tensor forward_fused(const Block& block, const at::Tensor& x, const InputOps& ops);
  // Overlapped exchange: forward_fused(block, [inner | halo()], ops), where the layer computes
  // what it can from the inner rows (inner: [block.num_rows(), in]) before it calls halo() --
  // e.g. the inner columns' part of its aggregation over block.inner_part(), then the halo
  // columns' over block.halo_part(). The default waits first: exact, nothing overlapped. The
  // Model calls it for layers whose overlaps() is true; the others get their rows synchronously.
  virtual bool overlaps() const { return false; }
  virtual at::Tensor forward_overlapped(const Block& block, const at::Tensor& inner, const LateHalo& halo,
                                        const InputOps& ops);
  // Whether forward accepts sparse rows as x (sparse_features.h): layers that project x with
  // graph_ops' project() before touching it otherwise. A Trainer then hands the first layer
  // mostly-zero input features as sparse rows.
  virtual bool takes_sparse_input() const { return false; }

  // Layer-0 precompute (DESIGN rule 4, BNS-GCN's --use-pp). A layer whose input enters only
  // through a fixed, parameter-free aggregation splits its forward in two:
  //   forward(block, x) == forward_precomputed(precompute(block, x))   (up to rounding).
  // The input features never change, so a Trainer runs precompute() once at set-up and every
  // epoch starts from its result; dropout then applies to that result, as in BNS-GCN. Layers
  // that cannot split keep precomputes() false.
  virtual bool precomputes() const { return false; }
  // x: [block.num_cols(), in_features] dense or sparse rows -> dense [block.num_rows(), P], P
  // the layer's precomputed width. No gradients flow through it.
  virtual at::Tensor precompute(const Block& block, const at::Tensor& x);
  // p: [rows, P], dense or sparse rows, with `dropout` still to apply to it (graph_ops'
  // input_project does both without keeping the dropped copy) -> [rows, out_features()].
  virtual at::Tensor forward_precomputed(const at::Tensor& p, const KeyedDropout& dropout);

  // The Model sets a fresh key before every forward (from seed, epoch and layer). Layers draw
  // their randomness from it with keyed_dropout / keyed_edge_dropout, or through halo::Dropout
  // submodules (gcn/dropout.h), which get keys derived from it here; so any split of the graph
  // draws the same numbers. is_training() says whether to draw at all.
  void set_random_key(uint64_t key);
  uint64_t random_key() const { return random_key_; }

 private:
  uint64_t random_key_ = 0;
};

TORCH_MODULE(GraphLayer);

// Copies `from`'s parameter and buffer values (by name, submodules included) and training mode
// into `to`, a module of the same structure, optionally onto `device`.
void copy_module_state(const torch::nn::Module& from, torch::nn::Module& to,
                       const c10::optional<torch::Device>& device);

// The base of a layer that can be cloned (Module::clone, which torch::nn::Cloneable gives
// LibTorch's own modules): the clone is a new Derived built from this one's `options` member
// with this one's parameter values, sharing nothing. A Model that takes the clone decides
// again which activations it fuses into it.
//   class GCNConvImpl : public CloneableGraphLayer<GCNConvImpl> { ... GCNConvOptions options; };
template <class Derived>
class CloneableGraphLayer : public GraphLayerImpl {
 public:
  std::shared_ptr<torch::nn::Module> clone(const c10::optional<torch::Device>& device = c10::nullopt) const override {
    auto copy = std::make_shared<Derived>(static_cast<const Derived&>(*this).options);
    copy_module_state(*this, *copy, device);
    return copy;
  }
};

// Throws Error naming `layer` unless x is [block.num_cols(), in_features]: the first line of a
// layer's forward.
void check_layer_input(const char* layer, const Block& block, const at::Tensor& x, int64_t in_features);

// ops for the inner rows and for the halo rows of a split input (forward_overlapped): the same
// ops, each with its rows' node ids.
std::pair<InputOps, InputOps> split_input_ops(const Block& block, const InputOps& ops);
// The same ops for the rows of a part's columns (LateHalo::for_each_part).
InputOps part_input_ops(const Block& part, const InputOps& ops);

// Whether a layer that aggregates and projects x: [cols, in] -> [rows, out] should project first
// (every column's row, then aggregating at width out) rather than aggregate first (at width in,
// then projecting the rows only): less work, counted from the Block's rows, columns and entries,
// with up to a quarter more GEMM rows allowed for the memory projecting first saves. A part whose
// halo outnumbers its inner rows can be better off aggregating first even when out < in.
bool project_first(const Block& block, Loops loops, int64_t in, int64_t out);

// Any layer's holder (GCNConv, or a user's TORCH_MODULE) as a GraphLayer, e.g. to build a Model.
template <class Holder>
GraphLayer as_graph_layer(const Holder& layer) {
  return GraphLayer(std::static_pointer_cast<GraphLayerImpl>(layer.ptr()));
}

}  // namespace halo
