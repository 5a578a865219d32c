// Compressed halo messages (comm/halo_codec.h): int8 rows decode within one quantization step
// (the row's max |x| / 127), stochastic rounding is unbiased (the mean over keyed draws within
// 5 standard errors of x), the same key gives the same bytes, bf16 and fp16 round to nearest,
// a NaN or infinity is not decoded as a finite row, the extremes of float's range decode finite
// (or as zeros below its normal range), and the sizes on the wire.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "comm/halo_codec.h"
#include "test_support.h"

namespace halo {
namespace {

at::Tensor round_trip(const at::Tensor& x, HaloPrecision p, uint64_t key, const at::Tensor& index = {}) {
  const at::Tensor rows = index.defined() ? index : at::arange(x.size(0), at::kLong);
  at::Tensor wire = at::empty({rows.size(0), wire_row_bytes(p, x)}, at::kByte);
  encode_rows(x, rows, p, key, wire);
  at::Tensor out = at::empty({rows.size(0), x.size(1)}, x.options());
  decode_rows(wire, p, out);
  return out;
}

TEST(HaloCodec, Int8DecodesWithinOneStep) {
  at::manual_seed(1);
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor x = at::randn({300, 37}, dtype) * at::rand({300, 1}, dtype) * 100;
    x[5].zero_();  // an all-zero row: scale 0
    const at::Tensor step = x.abs().amax(1, true) / 127;
    const at::Tensor y = round_trip(x, HaloPrecision::int8, 9);
    EXPECT_TRUE(((y - x).abs() <= step * (1 + 1e-6)).all().item<bool>()) << dtype;
    EXPECT_TRUE(y[5].eq(0).all().item<bool>());
  }
}

// The rounding errors in units of a step, e = (decode - x) / step, have mean 0 and variance
// f (1 - f), f the fraction of x / step. Summed per row over its elements and 400 draws (keys),
// each row's total is within 5 standard errors of 0. (Per element, the elements next to a level
// -- each row's max is on one -- round away with probability ~1e-5: too rare for a normal bound
// over 400 draws.)
TEST(HaloCodec, StochasticRoundingIsUnbiased) {
  at::manual_seed(2);
  const at::Tensor x = at::randn({8, 64}, at::kDouble);
  const at::Tensor step = (x.abs().amax(1, true) / 127).to(at::kFloat).to(at::kDouble);
  const at::Tensor f = x / step - (x / step).floor();
  const int draws = 400;
  at::Tensor error = at::zeros_like(x);
  for (int k = 0; k < draws; ++k)
    error += (round_trip(x, HaloPrecision::int8, static_cast<uint64_t>(k) + 100) - x) / step;
  const at::Tensor se = (f * (1 - f)).sum(1).mul(draws).sqrt();
  EXPECT_LT((error.sum(1).abs() / se).max().item<double>(), 5.0);
  EXPECT_GT(error.abs().sum().item<double>(), 0);  // the draws do round
}

TEST(HaloCodec, SameKeySameBytes) {
  at::manual_seed(3);
  const at::Tensor x = at::randn({100, 20});
  const at::Tensor index = at::randperm(100, at::kLong).narrow(0, 0, 60);
  at::Tensor a = at::empty({60, wire_row_bytes(HaloPrecision::int8, x)}, at::kByte), b = at::empty_like(a),
             c = at::empty_like(a);
  encode_rows(x, index, HaloPrecision::int8, 7, a);
  encode_rows(x, index, HaloPrecision::int8, 7, b);
  encode_rows(x, index, HaloPrecision::int8, 8, c);
  EXPECT_TRUE(a.equal(b));
  EXPECT_FALSE(a.equal(c));
  // Row i encodes source[index[i]].
  EXPECT_TRUE(
      round_trip(x, HaloPrecision::int8, 7, index).equal(round_trip(x.index_select(0, index), HaloPrecision::int8, 7)));
}

TEST(HaloCodec, HalfPrecisionsRoundToNearest) {
  at::manual_seed(4);
  const at::Tensor x = at::randn({50, 33});
  EXPECT_TRUE(round_trip(x, HaloPrecision::bf16, 0).equal(x.to(at::kBFloat16).to(at::kFloat)));
  EXPECT_TRUE(round_trip(x, HaloPrecision::fp16, 0).equal(x.to(at::kHalf).to(at::kFloat)));
}

TEST(HaloCodec, NonFiniteRowsStayNonFinite) {
  at::Tensor x = at::ones({3, 8});
  x[0][2] = std::nan("");
  x[1][5] = INFINITY;
  const at::Tensor y = round_trip(x, HaloPrecision::int8, 1);
  EXPECT_TRUE(y[0].isnan().all().item<bool>());
  EXPECT_TRUE(y[1].isnan().all().item<bool>());
  EXPECT_TRUE(y[2].eq(1).all().item<bool>());
}

TEST(HaloCodec, ExtremeFiniteRowsStayFiniteAndBounded) {
  // Subnormal (a scale of max / 127 would have an infinite inverse), the largest floats (127 x
  // max / 127 rounds to infinity), zeros, and a double beyond float's range.
  at::Tensor x = at::zeros({3, 8});
  x[0].fill_(1e-40f);
  x[0][3] = -5e-41f;
  x[1].fill_(std::numeric_limits<float>::max());
  x[1][1] = -std::numeric_limits<float>::max();
  const at::Tensor y = round_trip(x, HaloPrecision::int8, 2);
  EXPECT_TRUE(y[0].eq(0).all().item<bool>());
  EXPECT_TRUE(y[1].isfinite().all().item<bool>());
  EXPECT_TRUE(y[1].abs().ge(std::numeric_limits<float>::max() * 0.99f).all().item<bool>());
  EXPECT_TRUE(y[2].eq(0).all().item<bool>());
  const at::Tensor huge = at::full({1, 4}, 1e300, at::kDouble);
  EXPECT_TRUE(round_trip(huge, HaloPrecision::int8, 3).isnan().all().item<bool>());
}

TEST(HaloCodec, WireSizesAndNames) {
  const at::Tensor x = at::empty({1, 256});
  EXPECT_EQ(wire_row_bytes(HaloPrecision::fp32, x), 1024);
  EXPECT_EQ(wire_row_bytes(HaloPrecision::bf16, x), 512);
  EXPECT_EQ(wire_row_bytes(HaloPrecision::fp16, x), 512);
  EXPECT_EQ(wire_row_bytes(HaloPrecision::int8, x), 260);
  for (const char* name : {"fp32", "bf16", "fp16", "int8"}) EXPECT_EQ(to_string(parse_halo_precision(name)), name);
  test::expect_error([] { parse_halo_precision("int4"); }, {"halo precision 'int4'", "fp32, bf16, fp16 or int8"});
}

}  // namespace
}  // namespace halo
