import { ScalarType } from '@bufbuild/protobuf';

// The field kinds the protobuf writer and reader cover themselves; anything else goes to protobuf-es.
export type Kind = 'string' | 'bytes' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'double' | 'enum' | 'message';

// Up to this length a string is checked for ASCII, measured and written in JS by the reader and
// the writer: a reply's many short strings (ids, names, times) would otherwise cost a call into
// Buffer's native code each.
export const SHORT_STRING = 64;

export function scalarKind(scalar: ScalarType | undefined): Kind | undefined {
  switch (scalar) {
    case ScalarType.STRING:
      return 'string';
    case ScalarType.BYTES:
      return 'bytes';
    case ScalarType.BOOL:
      return 'bool';
    case ScalarType.INT32:
      return 'int32';
    case ScalarType.UINT32:
      return 'uint32';
    case ScalarType.INT64:
      return 'int64';
    case ScalarType.UINT64:
      return 'uint64';
    case ScalarType.DOUBLE:
      return 'double';
    default:
      return undefined;
  }
}
