/**
 * Goal: the gate (services/governor/gate.ts) is open only while the machine set it open and
 * only through its deadline inclusive: at the deadline it answers yes, 1 ms past it no, by
 * itself, with nothing else running; closing it or moving the deadline back takes effect at
 * once. Driven directly on a SimulatedClock.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { Gate } from '../../../services/governor/gate.js';

function gateOn(clock: SimulatedClock): Gate {
  return new Gate(clock);
}

describe('Gate', () => {
  it('starts closed, with no deadline: even an open flag alone does not open it', () => {
    const clock = new SimulatedClock();
    const gate = gateOn(clock);
    expect(gate.isOpen).toBe(false);
    expect(gate.canDeployCapital()).toBe(false);
    gate.setOpen(true);
    expect(gate.isOpen).toBe(true);
    // The deadline starts at -Infinity: no instant is fresh until a deadline is set.
    expect(gate.canDeployCapital()).toBe(false);
    expect(gate.canDeployCapitalAt(Number.MIN_SAFE_INTEGER)).toBe(false);
  });

  it('a deadline alone does not open a closed gate', () => {
    const clock = new SimulatedClock();
    const gate = gateOn(clock);
    gate.setDeadline(1_000);
    expect(gate.canDeployCapital()).toBe(false);
    expect(gate.canDeployCapitalAt(0)).toBe(false);
  });

  it('is open through its deadline inclusive and closed 1 ms past it, by the clock alone', () => {
    const clock = new SimulatedClock({ monotonicStartMs: 500 });
    const gate = gateOn(clock);
    gate.setOpen(true);
    gate.setDeadline(1_500);
    expect(gate.canDeployCapital()).toBe(true);
    clock.skip(999);
    expect(clock.monotonicNow()).toBe(1_499);
    expect(gate.canDeployCapital()).toBe(true);
    clock.skip(1);
    expect(gate.canDeployCapital()).toBe(true);
    clock.skip(1);
    expect(gate.canDeployCapital()).toBe(false);
    // Still flagged open: only the deadline closed it.
    expect(gate.isOpen).toBe(true);
  });

  it('answers at the instant the caller read, not at the clock', () => {
    const clock = new SimulatedClock();
    const gate = gateOn(clock);
    gate.setOpen(true);
    gate.setDeadline(100);
    clock.skip(1_000);
    expect(gate.canDeployCapital()).toBe(false);
    expect(gate.canDeployCapitalAt(100)).toBe(true);
    expect(gate.canDeployCapitalAt(100.5)).toBe(false);
    expect(gate.canDeployCapitalAt(101)).toBe(false);
  });

  it('closes at once when set closed, and reopens on the same deadline', () => {
    const clock = new SimulatedClock();
    const gate = gateOn(clock);
    gate.setOpen(true);
    gate.setDeadline(10_000);
    expect(gate.canDeployCapital()).toBe(true);
    gate.setOpen(false);
    expect(gate.canDeployCapital()).toBe(false);
    expect(gate.canDeployCapitalAt(0)).toBe(false);
    gate.setOpen(true);
    expect(gate.canDeployCapital()).toBe(true);
  });

  it('a deadline moved earlier (an input going stale sooner) closes it at once; moved later reopens it', () => {
    const clock = new SimulatedClock({ monotonicStartMs: 5_000 });
    const gate = gateOn(clock);
    gate.setOpen(true);
    gate.setDeadline(10_000);
    expect(gate.canDeployCapital()).toBe(true);
    gate.setDeadline(4_999);
    expect(gate.canDeployCapital()).toBe(false);
    gate.setDeadline(5_000);
    expect(gate.canDeployCapital()).toBe(true);
  });

  it('an infinite deadline keeps it open for as long as it is set open', () => {
    const clock = new SimulatedClock();
    const gate = gateOn(clock);
    gate.setOpen(true);
    gate.setDeadline(Number.POSITIVE_INFINITY);
    clock.skip(365 * 24 * 3_600_000);
    expect(gate.canDeployCapital()).toBe(true);
  });
});
