/** A dataset could not be read: a missing folder, an unreadable image, a file of the wrong size. Names the file. */
export class DataError extends Error {
  override name = 'DataError';
}
