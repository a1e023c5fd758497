package io.pgmigrate.benchmark;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One measured quantity of one configuration, with the value of every run.
 *
 * @param scenario the scenario, for example {@code stall}
 * @param configuration what was measured, for example {@code pgmigrate defaults}
 * @param metric the quantity, for example {@code app max latency}
 * @param unit the unit of the values, for example {@code ms}
 * @param runs one value per run; {@code NaN} where a run could not measure it
 * @param target the target the issue sets, empty when there is none
 */
public record Figure(String scenario, String configuration, String metric, String unit, List<Double> runs,
        String target) {

    /** A figure without a target. */
    public Figure(String scenario, String configuration, String metric, String unit, List<Double> runs) {
        this(scenario, configuration, metric, unit, runs, "");
    }

    /** The median of the measured runs, {@code NaN} when none measured it. */
    public double median() {
        double[] values = measured();
        if (values.length == 0) {
            return Double.NaN;
        }
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /** The smallest measured value. */
    public double min() {
        double[] values = measured();
        return values.length == 0 ? Double.NaN : values[0];
    }

    /** The largest measured value. */
    public double max() {
        double[] values = measured();
        return values.length == 0 ? Double.NaN : values[values.length - 1];
    }

    private double[] measured() {
        double[] values = runs.stream().mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).toArray();
        Arrays.sort(values);
        return values;
    }

    /** The median, with the range when runs differ: {@code 12.3 (11.0–15.2)}. */
    public String summary() {
        if (Double.isNaN(median())) {
            return "n/a";
        }
        String median = format(median());
        if (runs.size() < 2 || format(min()).equals(format(max()))) {
            return median;
        }
        return median + " (" + format(min()) + "–" + format(max()) + ")";
    }

    /** A number with as many digits as its size deserves. */
    static String format(double value) {
        if (Double.isNaN(value)) {
            return "n/a";
        }
        double magnitude = Math.abs(value);
        if (magnitude >= 100 || value == Math.rint(value) && magnitude < 1e9) {
            return String.format(Locale.ROOT, "%.0f", value);
        }
        if (magnitude >= 10) {
            return String.format(Locale.ROOT, "%.1f", value);
        }
        if (magnitude >= 1) {
            return String.format(Locale.ROOT, "%.2f", value);
        }
        return String.format(Locale.ROOT, "%.3f", value);
    }
}
