/**
 * The benchmarks' statistics: the median's distribution-free interval that row 1's goal is judged on.
 */
import { medianInterval } from '../../../bench/figures';

describe('medianInterval', () => {
  it('GIVEN 9 values THEN the 2nd and 8th smallest hold the median with 96 % confidence (the 3rd and 7th only 82 %)', () => {
    expect(medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5])).toEqual({ median: 5, low: 2, high: 8, confidence: 0.961 });
  });

  it('GIVEN 7 values THEN no narrower interval than the whole range reaches 95 %: the range, at 98.4 %', () => {
    expect(medianInterval([3, 1, 2, 7, 5, 4, 6])).toEqual({ median: 4, low: 1, high: 7, confidence: 0.984 });
  });

  it('GIVEN too few values for 95 % THEN the whole range, with the coverage it really has', () => {
    expect(medianInterval([1.3, 1.1, 1.2])).toEqual({ median: 1.2, low: 1.1, high: 1.3, confidence: 0.75 });
    expect(medianInterval([1.25, 1.2, 1.1, 1.3]).confidence).toBe(0.875);
  });

  it('GIVEN one value THEN it is the median and the interval, with no confidence at all', () => {
    expect(medianInterval([1.4])).toEqual({ median: 1.4, low: 1.4, high: 1.4, confidence: 0 });
  });

  it('GIVEN a lower confidence asked THEN the interval narrows to the order statistics that still reach it', () => {
    expect(medianInterval([9, 1, 8, 2, 7, 3, 6, 4, 5], 0.8)).toMatchObject({ low: 3, high: 7, confidence: 0.82 });
  });
});
