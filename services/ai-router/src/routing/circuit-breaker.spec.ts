import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const make = () => new CircuitBreaker({ failureThreshold: 3, openMs: 1000 }, () => now);

  beforeEach(() => {
    now = 0;
  });

  it('opens after the threshold of failures in a row and refuses calls while open', () => {
    const breaker = make();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.state).toBe('closed');
    breaker.onSuccess();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('lets one probe through when half-open; success closes, failure reopens', () => {
    const breaker = make();
    for (let i = 0; i < 3; i++) breaker.onFailure();
    now = 1000;
    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    now = 2500;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('frees the probe slot when the probe ends neutrally', () => {
    const breaker = make();
    for (let i = 0; i < 3; i++) breaker.onFailure();
    now = 1000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onNeutral();
    expect(breaker.tryAcquire()).toBe(true);
  });
});
