import { lazy, type ComponentType } from 'react';

// A code-split component that can be fetched ahead of use. Once its chunk is in, it renders
// directly: React would otherwise show the Suspense fallback and hold the real content back for
// its reveal throttle (~300 ms) even when the chunk is already loaded.
export function preloadable<P extends object>(loader: () => Promise<{ default: ComponentType<P> }>) {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<{ default: ComponentType<P> }> | null = null;
  const preload = () => {
    pending ??= loader().then((module) => {
      loaded = module.default;
      return module;
    });
    return pending;
  };
  const Lazy = lazy(preload);
  function Component(props: P) {
    const Ready = loaded ?? Lazy;
    return <Ready {...props} />;
  }
  return { Component, preload };
}
