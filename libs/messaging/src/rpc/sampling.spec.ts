import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { unsampled } from './sampling';

const ids = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', isRemote: true };

describe('unsampled', () => {
  it('is true only inside a valid trace whose sampled flag is off', () => {
    expect(unsampled(trace.setSpanContext(ROOT_CONTEXT, { ...ids, traceFlags: TraceFlags.NONE }))).toBe(true);
    expect(unsampled(trace.setSpanContext(ROOT_CONTEXT, { ...ids, traceFlags: TraceFlags.SAMPLED }))).toBe(false);
  });

  it('leaves a root (no trace yet, or an invalid one) to the sampler', () => {
    expect(unsampled(ROOT_CONTEXT)).toBe(false);
    expect(unsampled(trace.setSpanContext(ROOT_CONTEXT, INVALID_SPAN_CONTEXT))).toBe(false);
  });
});
