// The node entry's stand-ins (src/load/lazy.ts): each loads its part only when something touches it,
// and then acts as the class or the functions it stands for. test/package.test.ts checks the node
// entry's own stand-ins against the real classes in a fresh process.

import { describe, expect, it } from 'vitest';
import { lazyClass, lazyFunctions } from '../src/load/lazy.js';

/** A class with what the scorers have: a private field, statics, a getter. */
class Counter {
  static made = 0;
  readonly #start: number;
  constructor(start: number) {
    this.#start = start;
    Counter.made++;
  }
  static of(start: number): Counter {
    return new Counter(start);
  }
  static startOf(c: Counter): number {
    return c.#start;
  }
  get doubled(): number {
    return 2 * this.#start;
  }
}

/** A stand-in for Counter, and how many times it loaded it. */
function standIn(): { Lazy: typeof Counter; loads: () => number } {
  let loads = 0;
  const Lazy = lazyClass<typeof Counter>('Counter', () => {
    loads++;
    return Counter;
  });
  return { Lazy, loads: () => loads };
}

describe('lazyClass', () => {
  it('loads the class on first use only, and once', () => {
    const { Lazy, loads } = standIn();
    expect(typeof Lazy).toBe('function');
    expect(loads()).toBe(0);
    expect(Lazy.of(3).doubled).toBe(6);
    expect(new Lazy(4).doubled).toBe(8);
    expect(loads()).toBe(1);
  });

  it('acts as the class: new, statics, instanceof, prototype, name, own keys and descriptors', () => {
    const { Lazy } = standIn();
    const c = new Lazy(5);
    expect(Object.getPrototypeOf(c)).toBe(Counter.prototype);
    expect(Counter.startOf(c)).toBe(5);
    expect(c instanceof Lazy).toBe(true);
    expect(Counter.of(1) instanceof Lazy).toBe(true);
    expect({} instanceof Lazy).toBe(false);
    expect(Lazy.prototype).toBe(Counter.prototype);
    expect(Lazy.name).toBe('Counter');
    expect(Reflect.ownKeys(Lazy)).toEqual(Reflect.ownKeys(Counter));
    expect(Object.getOwnPropertyDescriptor(Lazy, 'prototype')).toEqual(Object.getOwnPropertyDescriptor(Counter, 'prototype'));
    expect(Object.getOwnPropertyDescriptor(Lazy, 'of')).toEqual(Object.getOwnPropertyDescriptor(Counter, 'of'));
    expect('of' in Lazy).toBe(true);
    expect(Object.getPrototypeOf(Lazy)).toBe(Object.getPrototypeOf(Counter));
    // Called without new, as the class itself: a TypeError.
    expect(() => (Lazy as unknown as () => void)()).toThrow(TypeError);
  });

  it('can be extended, and its statics set, as the class', () => {
    const { Lazy, loads } = standIn();
    class Sub extends Lazy {
      get tripled(): number {
        return 3 * Counter.startOf(this);
      }
    }
    const s = new Sub(2);
    expect(loads()).toBe(1);
    expect([s.doubled, s.tripled, s instanceof Lazy, s instanceof Counter, Object.getPrototypeOf(Sub.prototype)]).toEqual([4, 6, true, true, Counter.prototype]);
    const before = Counter.made;
    (Lazy as { made: number }).made = before + 10;
    expect(Counter.made).toBe(before + 10);
  });
});

describe('lazyFunctions', () => {
  const module = {
    twice: (x: number) => 2 * x,
    self(this: unknown) {
      return this;
    },
  };

  it('calls load() only when one of its functions is called, then that function with the arguments and this', () => {
    let loads = 0;
    const lazy = lazyFunctions<typeof module>({ twice: 1, self: 0 }, () => {
      loads++;
      return module;
    });
    expect(loads).toBe(0);
    expect(Object.keys(lazy)).toEqual(['twice', 'self']);
    expect([lazy.twice.name, lazy.self.name]).toEqual(['twice', 'self']);
    expect([lazy.twice.length, lazy.self.length]).toEqual([1, 0]);
    expect(Object.isFrozen(lazy)).toBe(true);
    expect(loads).toBe(0);
    expect(lazy.twice(21)).toBe(42);
    const that = {};
    expect(lazy.self.call(that)).toBe(that);
    expect(loads).toBe(2);
  });
});
