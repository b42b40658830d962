/** Indexing for `noUncheckedIndexedAccess`: say when an index is proven, and fail loudly when it is not. */

/**
 * `items[index]` for an index the caller knows is in range (a node id from the tree, a
 * visible row below `rows.ids.length`). Throws a RangeError naming `what` when it is not,
 * instead of letting `undefined` travel on.
 */
export function at<T>(items: ArrayLike<T>, index: number, what = 'index'): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`${what} ${index} is out of range (0..${items.length - 1})`);
  return item;
}
