/**
 * The one helper for the small ONNX graphs xlalign writes by hand with `onnx-proto` (the
 * static model's Gather, the exact top-k's Gemm + TopK): a tensor's name, element type and
 * shape, where a string dimension is symbolic (`'batch_size'`) and a number is fixed.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** `ValueInfoProto` of a tensor input or output. @example tensorInfo('input_ids', INT64, ['batch_size', 'sequence_length']) */
export function tensorInfo(name: string, elemType: number, dims: readonly (string | number)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'number'
              ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
              : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}
