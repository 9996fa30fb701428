// Stand-ins for the values of a part of the library that an entry point loads on first use (the node
// entry's src/parts.ts): each is usable at once, and loads the part only when something touches it.

/**
 * A stand-in for the class `load()` returns: a Proxy of a constructor whose every operation (`new`,
 * statics, `instanceof`, `extends`, property reads) goes to the class, loaded on first use. A Proxy
 * must report a non-configurable own property as its target has it, so the target's `prototype`
 * becomes the class's, read-only, when the class loads. The target has the class's name, which is
 * what console.log shows of a Proxy before anything touches it.
 * @internal
 */
export function lazyClass<C extends abstract new (...args: never[]) => unknown>(name: string, load: () => C): C {
  // biome-ignore lint/complexity/useArrowFunction: `new` on a Proxy needs a target that is a constructor.
  const target = Object.defineProperty(function () {}, 'name', { value: name }) as unknown as C;
  let loaded: C | undefined;
  const real = (): C => {
    if (loaded === undefined) {
      loaded = load();
      Object.defineProperty(target, 'prototype', { value: loaded.prototype, writable: false });
    }
    return loaded;
  };
  return new Proxy(target, {
    construct: (_, args, newTarget) => Reflect.construct(real() as never, args, newTarget),
    apply: (_, self, args) => Reflect.apply(real() as never, self, args),
    get: (_, key) => Reflect.get(real(), key),
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(real(), key),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
  });
}

/**
 * A stand-in for a module of functions (`typeof M`): a frozen object with a function for each name of
 * `arities`, which calls the function of that name of `load()`, loaded on first use, and reports that
 * function's `name` and `length` (its arity, given here: it is not known until the module loads).
 * @internal
 */
export function lazyFunctions<M extends Record<string, unknown>>(arities: Readonly<Record<keyof M & string, number>>, load: () => M): M {
  const object: Record<string, unknown> = {};
  for (const [name, length] of Object.entries(arities) as [keyof M & string, number][]) {
    const call = function (this: unknown, ...args: unknown[]): unknown {
      return Reflect.apply(load()[name] as (...a: unknown[]) => unknown, this, args);
    };
    object[name] = Object.defineProperties(call, { name: { value: name }, length: { value: length } });
  }
  return Object.freeze(object) as M;
}
