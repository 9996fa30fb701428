// The ONNX model the onnxruntime suites run, written here as ModelProto bytes by a small protobuf encoder,
// so that nothing is downloaded and the graph is plain to read. Field numbers are onnx.proto's.
//
//   inputs   X [N, F] float32, shape [3] int64 (B, T, V for the reshape), mask [B, T] int64
//   logits      = Add(MatMul(X, W), b)             [N, C] float32   (a classifier's output)
//   logits_f16  = Cast(logits, to: FLOAT16)        [N, C] float16
//   logits_f64  = Cast(logits, to: DOUBLE)         [N, C] float64
//   widened     = Cast(logits_f16, to: FLOAT)      [N, C] float32  (checks the test's own float16 widening)
//   predicted   = ArgMax(logits, axis 1)           [N]    int64
//   lm_logits   = Reshape(logits, shape)           [B, T, V] float32 (a language model's output, N = B·T)
//   lm_logits_f16 = Reshape(logits_f16, shape)     [B, T, V] float16
//   mask_bool   = Cast(mask, to: BOOL)             [B, T] bool

/** onnx.proto's TensorProto.DataType values used here. */
export const DataType = Object.freeze({ FLOAT: 1, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 });

// --- protobuf wire format: varints (wire type 0), length-delimited fields (2), fixed32 (5) ---

function varint(value) {
  // int64 fields: a negative value is its 64-bit two's complement, ten bytes.
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

const key = (field, wire) => varint((field << 3) | wire);
const utf8 = new TextEncoder();

/** One message: its fields in order, each appended by the methods below. */
class Message {
  parts = [];
  int(field, value) {
    this.parts.push(Uint8Array.from([...key(field, 0), ...varint(value)]));
    return this;
  }
  bytes(field, bytes) {
    this.parts.push(Uint8Array.from([...key(field, 2), ...varint(bytes.length)]), bytes);
    return this;
  }
  string(field, text) {
    return this.bytes(field, utf8.encode(text));
  }
  message(field, message) {
    return this.bytes(field, message.encode());
  }
  encode() {
    const length = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// --- onnx.proto messages ---

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
function tensorProto(name, dataType, dims, values) {
  const m = new Message();
  for (const d of dims) m.int(1, d);
  m.int(2, dataType).string(8, name);
  return m.bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** ValueInfoProto: name (1), type (2) = TypeProto { tensor_type (1) { elem_type (1), shape (2) } }. */
function valueInfo(name, elemType, dims) {
  const shape = new Message();
  // Dimension: dim_value (1) for a number, dim_param (2) for a symbolic size.
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, elemType).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

/** AttributeProto of type INT: name (1), i (3), type (20) = 2. */
const intAttribute = (name, value) => new Message().string(1, name).int(3, value).int(20, 2);

/** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). */
function node(opType, inputs, outputs, attributes = []) {
  const m = new Message();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, `${opType}_${outputs[0]}`).string(4, opType);
  for (const a of attributes) m.message(5, a);
  return m;
}

/**
 * The model's bytes: W [F, C] and b [C] (Float32Array, row-major) are its initializers.
 * @returns a Uint8Array to pass to InferenceSession.create
 */
export function classifierModel(W, b, features, classes) {
  if (W.length !== features * classes || b.length !== classes) throw new RangeError('W must be [F, C] and b [C]');
  const graph = new Message();
  const nodes = [
    node('MatMul', ['X', 'W'], ['xw']),
    node('Add', ['xw', 'b'], ['logits']),
    node('Cast', ['logits'], ['logits_f16'], [intAttribute('to', DataType.FLOAT16)]),
    node('Cast', ['logits'], ['logits_f64'], [intAttribute('to', DataType.DOUBLE)]),
    node('Cast', ['logits_f16'], ['widened'], [intAttribute('to', DataType.FLOAT)]),
    node('ArgMax', ['logits'], ['predicted'], [intAttribute('axis', 1), intAttribute('keepdims', 0)]),
    node('Reshape', ['logits', 'shape'], ['lm_logits']),
    node('Reshape', ['logits_f16', 'shape'], ['lm_logits_f16']),
    node('Cast', ['mask'], ['mask_bool'], [intAttribute('to', DataType.BOOL)]),
  ];
  // GraphProto: node (1), name (2), initializer (5), input (11), output (12).
  for (const n of nodes) graph.message(1, n);
  graph.string(2, 'xentropy_components');
  graph.bytes(5, tensorProto('W', DataType.FLOAT, [features, classes], W).encode());
  graph.bytes(5, tensorProto('b', DataType.FLOAT, [classes], b).encode());
  graph.message(11, valueInfo('X', DataType.FLOAT, ['N', features]));
  graph.message(11, valueInfo('shape', DataType.INT64, [3]));
  graph.message(11, valueInfo('mask', DataType.INT64, ['B', 'T']));
  graph.message(12, valueInfo('logits', DataType.FLOAT, ['N', classes]));
  graph.message(12, valueInfo('logits_f16', DataType.FLOAT16, ['N', classes]));
  graph.message(12, valueInfo('logits_f64', DataType.DOUBLE, ['N', classes]));
  graph.message(12, valueInfo('widened', DataType.FLOAT, ['N', classes]));
  graph.message(12, valueInfo('predicted', DataType.INT64, ['N']));
  graph.message(12, valueInfo('lm_logits', DataType.FLOAT, ['B', 'T', classes]));
  graph.message(12, valueInfo('lm_logits_f16', DataType.FLOAT16, ['B', 'T', classes]));
  graph.message(12, valueInfo('mask_bool', DataType.BOOL, ['B', 'T']));
  // ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8) { domain (1), version (2) }.
  return new Message()
    .int(1, 8)
    .string(2, 'xentropy test/components')
    .message(7, graph)
    .message(8, new Message().string(1, '').int(2, 17))
    .encode();
}
