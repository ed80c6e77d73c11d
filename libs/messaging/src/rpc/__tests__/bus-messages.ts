import { create, ScalarType, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import { commonV1, Events, Rpc } from '@overskill/contracts';

// Fixtures for the protobuf writer's and reader's specs: every bus message, filled.

// Every message the bus carries, and every message nested in one.
export function busMessages(): DescMessage[] {
  const roots: DescMessage[] = [commonV1.ErrorSchema];
  for (const def of Object.values(Rpc)) roots.push(def.request, def.response);
  for (const event of Object.values(Events)) roots.push(event.message);
  const seen = new Set<DescMessage>();
  const walk = (desc: DescMessage) => {
    if (seen.has(desc)) return;
    seen.add(desc);
    for (const field of desc.fields) if (field.message) walk(field.message);
  };
  roots.forEach(walk);
  return [...seen];
}

// A value for every field, none of them the zero value, variant chosen by `seed`.
export function scalarValue(scalar: ScalarType, seed: number): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return ['plain', 'ünïcødé €', 'emoji 😀 and a lone \ud800 surrogate', 'x'.repeat(300)][seed % 4];
    case ScalarType.BYTES:
      return new Uint8Array([0, 1, 254, 255].slice(0, 1 + (seed % 4)));
    case ScalarType.BOOL:
      return true;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return [1.5, -0, 1e300, -2.25][seed % 4];
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return [1n, -1n, 9007199254740993n, -(2n ** 63n)][seed % 4];
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return [1n, 2n ** 64n - 1n, 300n, 2n ** 35n][seed % 4];
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return [1, 0xffffffff, 128, 16384][seed % 4];
    default:
      return [1, -1, 0x7fffffff, -0x80000000][seed % 4];
  }
}

// The init shape a handler would return (plain objects all the way down); `sparse` leaves every
// other field out, oneofs and lists included.
export function fillInit(desc: DescMessage, seed: number, depth: number, sparse = false): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  desc.fields.forEach((field, i) => {
    if (sparse && (i + seed) % 2 === 1) return;
    const valueFor = (k: number): unknown => {
      if (field.message) return depth > 0 ? fillInit(field.message, seed + k, depth - 1, sparse) : {};
      if (field.enum) return field.enum.values[field.enum.values.length > 1 ? 1 : 0]?.number ?? 0;
      return scalarValue(field.scalar ?? ScalarType.INT32, seed + k);
    };
    if (field.oneof) init[field.oneof.localName] ??= { case: field.localName, value: valueFor(0) };
    else if (field.fieldKind === 'list') init[field.localName] = [valueFor(0), valueFor(1)];
    else if (field.fieldKind === 'map') init[field.localName] = { a: valueFor(0) };
    else init[field.localName] = valueFor(0);
  });
  return init;
}

export function fill(desc: DescMessage, seed: number, depth: number): Message {
  const init: Record<string, unknown> = {};
  const oneofsSet = new Set<string>();
  const valueFor = (field: DescField, i: number): unknown => {
    if (field.message) return depth > 0 ? fill(field.message, seed + i, depth - 1) : create(field.message);
    if (field.enum) return field.enum.values[field.enum.values.length > 1 ? 1 : 0]?.number ?? 0;
    return scalarValue(field.scalar ?? ScalarType.INT32, seed + i);
  };
  for (const field of desc.fields) {
    if (field.oneof) {
      if (oneofsSet.has(field.oneof.localName)) continue;
      oneofsSet.add(field.oneof.localName);
      init[field.oneof.localName] = { case: field.localName, value: valueFor(field, 0) };
    } else if (field.fieldKind === 'list') {
      init[field.localName] = [valueFor(field, 0), valueFor(field, 1)];
    } else if (field.fieldKind === 'map') {
      init[field.localName] = { a: valueFor(field, 0) };
    } else {
      init[field.localName] = valueFor(field, 0);
    }
  }
  return create(desc, init as never);
}
