// The onnxruntime-web contenders' models, built here as ONNX protobuf bytes so the bench needs no
// model file and no Python. Only the protobuf fields these graphs use are encoded; field numbers are
// those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto,
// TypeProto, TensorShapeProto, OperatorSetIdProto).

/** The ONNX opset the models import: LogSoftmax over one axis (not a flattened 2-D view) is opset 13. */
export const OPSET = 13;
/** IR version 7 is the one that goes with opset 13 (ONNX 1.8). */
const IR_VERSION = 7;

/** onnx.TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 };
/** onnx.AttributeProto.AttributeType values used here. */
const AttributeType = { INT: 2 };

const textEncoder = new TextEncoder();

/** Protobuf wire types. */
const VARINT = 0, LEN = 2;

/**
 * A varint of a non-negative integer below 2^53 (every size and int64 value in these models is).
 * @param {number} value
 * @returns {number[]} the bytes, low 7 bits first
 */
function varint(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint: value must be a safe non-negative integer, got ${value}`);
  const bytes = [];
  // Division rather than >>> 7: shifts truncate to 32 bits, and int64 fields may exceed them.
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

/** A field's key: field number and wire type. */
const key = (field, wire) => varint(field * 8 + wire);

/** A varint field (int32, int64, enum). */
const int = (field, value) => [...key(field, VARINT), ...varint(value)];

/** A length-delimited field holding bytes (a string or an embedded message). */
function bytesField(field, bytes) {
  return [...key(field, LEN), ...varint(bytes.length), ...bytes];
}

/** A string field. */
const str = (field, text) => bytesField(field, [...textEncoder.encode(text)]);

/** An embedded message field; `message` is the message's encoded bytes. */
const msg = (field, message) => bytesField(field, message);

/**
 * A graph input or output: ValueInfoProto { name, type: TypeProto { tensor_type { elem_type, shape } } }.
 * @param {string} name
 * @param {number} elemType a DataType value
 * @param {Array<number | string> | null} dims a number is a fixed size, a string a symbolic one; null: unknown shape
 */
function valueInfo(name, elemType, dims) {
  const tensorType = [...int(1, elemType)];
  if (dims) {
    // TensorShapeProto.dim: Dimension { dim_value = 1 | dim_param = 2 }.
    const shape = dims.flatMap((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
    tensorType.push(...msg(2, shape));
  }
  return [...str(1, name), ...msg(2, msg(1, tensorType))];
}

/**
 * NodeProto { input, output, name, op_type, attribute }; attributes are ints only here.
 * @param {string} opType
 * @param {string[]} inputs
 * @param {string[]} outputs
 * @param {Record<string, number>} [attributes] INT attributes
 */
function node(opType, inputs, outputs, attributes = {}) {
  return [
    ...inputs.flatMap((i) => str(1, i)),
    ...outputs.flatMap((o) => str(2, o)),
    ...str(3, `${opType}_${outputs[0]}`),
    ...str(4, opType),
    // AttributeProto { name = 1, i = 3, type = 20 }.
    ...Object.entries(attributes).flatMap(([name, value]) => msg(5, [...str(1, name), ...int(3, value), ...int(20, AttributeType.INT)])),
  ];
}

/**
 * ModelProto { ir_version, producer_name, graph, opset_import } of one graph in the default domain.
 * @param {string} name graph name
 * @param {number[][]} nodes encoded NodeProtos, in topological order
 * @param {number[][]} inputs encoded ValueInfoProtos
 * @param {number[][]} outputs encoded ValueInfoProtos
 * @returns {Uint8Array} the model's bytes, for ort.InferenceSession.create
 */
function model(name, nodes, inputs, outputs) {
  const graph = [
    ...nodes.flatMap((n) => msg(1, n)),
    ...str(2, name),
    ...inputs.flatMap((v) => msg(11, v)),
    ...outputs.flatMap((v) => msg(12, v)),
  ];
  return Uint8Array.from([
    ...int(1, IR_VERSION),
    ...str(2, 'xentropy-bench'),
    ...msg(7, graph),
    // OperatorSetIdProto { domain = 1 (empty: the default ai.onnx), version = 2 }.
    ...msg(8, int(2, OPSET)),
  ]);
}

/**
 * Mean softmax cross-entropy of class indices, as a user would export it:
 * loss = -ReduceMean(GatherElements(LogSoftmax(logits, axis 1), labels, axis 1)).
 * Inputs `logits` float32 [N, C] and `labels` int32 [N, 1] (GatherElements takes int32 indices, so
 * the labels need no conversion); output `loss`, a float32 scalar. N and C are symbolic.
 * @returns {Uint8Array}
 */
export function softmaxCrossEntropyModel() {
  return model('softmax_cross_entropy', [
    node('LogSoftmax', ['logits'], ['log_probs'], { axis: 1 }),
    node('GatherElements', ['log_probs', 'labels'], ['picked'], { axis: 1 }),
    // Opset 13's ReduceMean takes axes as an attribute; none means every axis.
    node('ReduceMean', ['picked'], ['mean_log_prob'], { keepdims: 0 }),
    node('Neg', ['mean_log_prob'], ['loss']),
  ], [
    valueInfo('logits', DataType.FLOAT, ['N', 'C']),
    valueInfo('labels', DataType.INT32, ['N', 1]),
  ], [valueInfo('loss', DataType.FLOAT, [])]);
}

/**
 * Mean binary cross-entropy with logits in the stable form softplus(x) - x t (equal to
 * -[t log sigma(x) + (1 - t) log(1 - sigma(x))]):
 * loss = ReduceMean(Sub(Softplus(x), Mul(x, t))).
 * Inputs `logits` and `targets`, float32 [n]; output `loss`, a float32 scalar.
 * @returns {Uint8Array}
 */
export function binaryCrossEntropyModel() {
  return model('binary_cross_entropy_with_logits', [
    node('Softplus', ['logits'], ['softplus']),
    node('Mul', ['logits', 'targets'], ['logit_times_target']),
    node('Sub', ['softplus', 'logit_times_target'], ['losses']),
    node('ReduceMean', ['losses'], ['loss'], { keepdims: 0 }),
  ], [
    valueInfo('logits', DataType.FLOAT, ['n']),
    valueInfo('targets', DataType.FLOAT, ['n']),
  ], [valueInfo('loss', DataType.FLOAT, [])]);
}
