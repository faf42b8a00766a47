import { test } from 'node:test';
import { zoo } from '../../src/zoo/index.js';
import { checkZooNames } from './pytorch_export_helper.js';

/** Every zoo net exports; those torchvision has get its state_dict names and shapes. */
test("every zoo net exports, and those torchvision has get torchvision's state_dict names and shapes", (t) => {
  const checked = checkZooNames(t, zoo);
  if (checked !== null) t.diagnostic(`${zoo.length} zoo nets exported; torchvision's names for ${checked.join(', ')}`);
});
