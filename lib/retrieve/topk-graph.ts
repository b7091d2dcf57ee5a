/**
 * The tiny ONNX graph behind the `ort` backend of {@link exactTopK}: scores = Q · Dᵀ
 * (Gemm with transB = 1, so the document block is used in its natural row-major layout)
 * followed by TopK over the document axis.
 *
 * Hand-built with `onnx-proto` (the ONNX protobuf schema, already a dependency) because the
 * graph has two nodes and needs no exporter; ONNX Runtime then runs it with its MLAS sgemm
 * kernels and its threaded TopK.
 *
 * Inputs: `q` float32 [m, d], `d` float32 [n, d], `k` int64 [1] (k <= n).
 * Outputs: `values` float32 [m, k], `indices` int64 [m, k], best first; ties keep the lower
 * document index first (ONNX TopK-11 semantics: "the element with the lower index will
 * appear first"; checked by the tests).
 */
import onnxProto from 'onnx-proto';
import { tensorInfo } from '../util/onnx-graph.js';

const { onnx } = onnxProto;

/** Names of the graph's inputs and outputs. */
export const TOPK_GRAPH_IO = {
  queries: 'q',
  docs: 'd',
  k: 'k',
  values: 'values',
  indices: 'indices',
} as const;

/**
 * Serialise the Gemm + TopK model (opset 13, IR version 7) to bytes for
 * `InferenceSession.create`.
 *
 * @example
 * const session = await ort.InferenceSession.create(buildTopKModel());
 */
export function buildTopKModel(): Uint8Array {
  const F = onnx.TensorProto.DataType.FLOAT;
  const I64 = onnx.TensorProto.DataType.INT64;
  const A = onnx.AttributeProto.AttributeType;
  const gemm = onnx.NodeProto.create({
    opType: 'Gemm',
    name: 'scores',
    input: [TOPK_GRAPH_IO.queries, TOPK_GRAPH_IO.docs],
    output: ['s'],
    attribute: [onnx.AttributeProto.create({ name: 'transB', type: A.INT, i: 1 })],
  });
  const topk = onnx.NodeProto.create({
    opType: 'TopK',
    name: 'topk',
    input: ['s', TOPK_GRAPH_IO.k],
    output: [TOPK_GRAPH_IO.values, TOPK_GRAPH_IO.indices],
    attribute: [
      onnx.AttributeProto.create({ name: 'axis', type: A.INT, i: -1 }),
      onnx.AttributeProto.create({ name: 'largest', type: A.INT, i: 1 }),
      onnx.AttributeProto.create({ name: 'sorted', type: A.INT, i: 1 }),
    ],
  });
  const graph = onnx.GraphProto.create({
    name: 'xlalign-exact-topk',
    node: [gemm, topk],
    input: [
      tensorInfo(TOPK_GRAPH_IO.queries, F, ['m', 'dim']),
      tensorInfo(TOPK_GRAPH_IO.docs, F, ['n', 'dim']),
      tensorInfo(TOPK_GRAPH_IO.k, I64, [1]),
    ],
    output: [tensorInfo(TOPK_GRAPH_IO.values, F, ['m', 'kk']), tensorInfo(TOPK_GRAPH_IO.indices, I64, ['m', 'kk'])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'xlalign',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
