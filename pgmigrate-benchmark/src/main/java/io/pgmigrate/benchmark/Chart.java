package io.pgmigrate.benchmark;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

/**
 * Draws the benchmark's figures as one PNG with plain Java2D: the stall per configuration, the stall and
 * the watcher's cost per poll interval, and each target as a share of its limit.
 */
final class Chart {

    private static final int WIDTH = 1500;
    private static final int HEIGHT = 1000;
    private static final Color TARGET = new Color(200, 40, 40);
    private static final Color BAR = new Color(60, 110, 180);
    private static final Color SECOND = new Color(230, 140, 30);

    private final Report report;

    Chart(Report report) {
        this.report = report;
    }

    void write(Path file) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        stallPanel(g, 40, 50, WIDTH - 80, 400);
        intervalPanel(g, 40, 540, 860, 400);
        targetPanel(g, 980, 540, 480, 400);
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private void title(Graphics2D g, String text, int x, int y) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(text, x, y - 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    }

    /** Horizontal bars, log scale from 1 ms to 100 s: the application's worst stall per configuration. */
    private void stallPanel(Graphics2D g, int x, int y, int w, int h) {
        title(g, "Application max latency during a blocked migration (median of runs, whisker = worst run; log scale)",
                x, y);
        List<Figure> stall = report.figures().stream()
            .filter(f -> (f.scenario().equals(ColdStartScenario.NAME) || f.scenario().equals(StallScenario.NAME))
                    && f.metric().equals("app max latency")).toList();
        int labelWidth = 470;
        int plotX = x + labelWidth;
        int plotW = w - labelWidth - 20;
        double min = Math.log10(1);
        double max = Math.log10(100_000);
        axisLog(g, plotX, y, plotW, h - 30, min, max, new double[] {1, 10, 100, 1000, 10_000, 100_000},
                new String[] {"1 ms", "10 ms", "100 ms", "1 s", "10 s", "100 s"});
        int rowHeight = stall.isEmpty() ? 0 : Math.min(40, (h - 40) / stall.size());
        for (int i = 0; i < stall.size(); i++) {
            Figure figure = stall.get(i);
            int rowY = y + 5 + i * rowHeight;
            g.setColor(Color.BLACK);
            g.drawString((figure.scenario().equals(ColdStartScenario.NAME) ? "cold start: " : "warm: ")
                    + figure.configuration(), x, rowY + rowHeight / 2 + 4);
            if (Double.isNaN(figure.median())) {
                continue;
            }
            int end = plotX + (int) (plotW * (Math.log10(Math.max(1, figure.median())) - min) / (max - min));
            g.setColor(BAR);
            g.fillRect(plotX, rowY + 4, Math.max(1, end - plotX), rowHeight - 10);
            int worst = plotX + (int) (plotW * (Math.log10(Math.max(1, figure.max())) - min) / (max - min));
            g.setColor(Color.DARK_GRAY);
            g.drawLine(end, rowY + rowHeight / 2, worst, rowY + rowHeight / 2);
            g.drawLine(worst, rowY + 8, worst, rowY + rowHeight - 8);
            g.drawString(Figure.format(figure.median()) + " ms", Math.max(end, worst) + 6, rowY + rowHeight / 2 + 4);
        }
        int target = plotX + (int) (plotW * (Math.log10(Report.STALL_TARGET_MILLIS) - min) / (max - min));
        dashed(g, target, y, target, y + h - 30);
        g.setColor(TARGET);
        g.drawString("target 50 ms", target + 4, y + h - 34);
    }

    /** Stall (left axis, log) and watcher CPU with 10,000 locks (right axis) per poll interval (log). */
    private void intervalPanel(Graphics2D g, int x, int y, int w, int h) {
        title(g, "Poll interval: stall (blue, ms, log) and watcher CPU with 10,000 locks (orange, % of a core)", x, y);
        List<Duration> intervals = report.intervals();
        int plotX = x + 60;
        int plotW = w - 120;
        int plotH = h - 50;
        double minX = Math.log10(5);
        double maxX = Math.log10(2000);
        double minY = Math.log10(1);
        double maxY = Math.log10(10_000);
        g.setColor(Color.LIGHT_GRAY);
        g.drawRect(plotX, y, plotW, plotH);
        for (double tick : new double[] {1, 10, 100, 1000, 10_000}) {
            int ty = y + plotH - (int) (plotH * (Math.log10(tick) - minY) / (maxY - minY));
            g.setColor(new Color(235, 235, 235));
            g.drawLine(plotX, ty, plotX + plotW, ty);
            g.setColor(BAR);
            g.drawString(Figure.format(tick), x + 5, ty + 4);
        }
        double maxCpu = 1;
        for (Duration interval : intervals) {
            ScaleScenario.PollCost cost = report.costAt(interval, true);
            if (cost != null && !Double.isNaN(cost.serverCpuPercent())) {
                maxCpu = Math.max(maxCpu, cost.serverCpuPercent() + zero(cost.clientCpuPercent()));
            }
        }
        maxCpu = Math.ceil(maxCpu);
        for (int i = 0; i <= 4; i++) {
            int ty = y + plotH - plotH * i / 4;
            g.setColor(SECOND);
            g.drawString(Figure.format(maxCpu * i / 4) + " %", plotX + plotW + 6, ty + 4);
        }
        int targetY = y + plotH - (int) (plotH * (Math.log10(Report.STALL_TARGET_MILLIS) - minY) / (maxY - minY));
        dashed(g, plotX, targetY, plotX + plotW, targetY);
        g.setColor(TARGET);
        g.drawString("stall target 50 ms", plotX + 6, targetY - 4);
        int[] previousStall = null;
        int[] previousCpu = null;
        for (Duration interval : intervals) {
            int px = plotX + (int) (plotW * (Math.log10(interval.toMillis()) - minX) / (maxX - minX));
            g.setColor(Color.BLACK);
            g.drawString(interval.toMillis() + " ms", px - 15, y + plotH + 18);
            Figure stall = report.stallAt(interval, "app max latency");
            if (stall != null && !Double.isNaN(stall.median())) {
                int py = y + plotH - (int) (plotH * (Math.log10(Math.max(1, stall.median())) - minY) / (maxY - minY));
                g.setColor(BAR);
                g.fillOval(px - 5, py - 5, 10, 10);
                g.drawString(Figure.format(stall.median()), px + 7, py - 6);
                if (previousStall != null) {
                    g.setStroke(new BasicStroke(2));
                    g.drawLine(previousStall[0], previousStall[1], px, py);
                    g.setStroke(new BasicStroke(1));
                }
                previousStall = new int[] {px, py};
            }
            ScaleScenario.PollCost cost = report.costAt(interval, true);
            if (cost != null && !Double.isNaN(cost.serverCpuPercent())) {
                double cpu = cost.serverCpuPercent() + zero(cost.clientCpuPercent());
                int py = y + plotH - (int) (plotH * cpu / maxCpu);
                g.setColor(SECOND);
                g.fillRect(px - 5, py - 5, 10, 10);
                g.drawString(Figure.format(cpu) + " %", px + 7, py + 14);
                if (previousCpu != null) {
                    g.setStroke(new BasicStroke(2));
                    g.drawLine(previousCpu[0], previousCpu[1], px, py);
                    g.setStroke(new BasicStroke(1));
                }
                previousCpu = new int[] {px, py};
            }
        }
        g.setColor(Color.BLACK);
        g.drawString("poll interval (log)", plotX + plotW / 2 - 50, y + plotH + 36);
    }

    /** Each target as a share of its limit: at or under 100 % is met. */
    private void targetPanel(Graphics2D g, int x, int y, int w, int h) {
        title(g, "Targets: measured as % of the limit (≤ 100 % = met)", x, y);
        List<Report.Target> targets = new ArrayList<>(report.targets());
        targets.removeIf(t -> t.limit() == 0);
        int plotH = h - 150;
        double scale = 200;
        for (Report.Target target : targets) {
            if (!Double.isNaN(target.value())) {
                scale = Math.max(scale, Math.min(1000, target.value() / target.limit() * 100 * 1.1));
            }
        }
        int barW = targets.isEmpty() ? 0 : Math.min(70, (w - 40) / targets.size() - 20);
        g.setColor(Color.LIGHT_GRAY);
        g.drawLine(x, y + plotH, x + w, y + plotH);
        int hundred = y + plotH - (int) (plotH * 100 / scale);
        dashed(g, x, hundred, x + w, hundred);
        g.setColor(TARGET);
        g.drawString("100 %", x + w - 40, hundred - 4);
        for (int i = 0; i < targets.size(); i++) {
            Report.Target target = targets.get(i);
            int bx = x + 20 + i * (barW + 20);
            double share = target.value() / target.limit() * 100;
            if (!Double.isNaN(share)) {
                int bh = (int) (plotH * Math.min(share, scale) / scale);
                g.setColor(target.met() ? new Color(70, 160, 90) : TARGET);
                g.fillRect(bx, y + plotH - bh, barW, bh);
                g.setColor(Color.BLACK);
                g.drawString(Figure.format(target.value()) + " " + target.unit(), bx, y + plotH - bh - 6);
            }
            g.setColor(Color.BLACK);
            String[] words = shortName(target.name()).split(" ");
            int line = 0;
            StringBuilder current = new StringBuilder();
            for (String word : words) {
                if (current.length() + word.length() > 12) {
                    g.drawString(current.toString().trim(), bx, y + plotH + 16 + 14 * line++);
                    current.setLength(0);
                }
                current.append(word).append(' ');
            }
            g.drawString(current.toString().trim(), bx, y + plotH + 16 + 14 * line);
        }
    }

    private static String shortName(String name) {
        return name.replace("defaults: ", "").replace("during a blocked migration", "(defaults)");
    }

    private static void axisLog(Graphics2D g, int x, int y, int w, int h, double min, double max, double[] ticks,
            String[] labels) {
        for (int i = 0; i < ticks.length; i++) {
            int tx = x + (int) (w * (Math.log10(ticks[i]) - min) / (max - min));
            g.setColor(new Color(235, 235, 235));
            g.drawLine(tx, y, tx, y + h);
            g.setColor(Color.GRAY);
            g.drawString(labels[i], tx - 12, y + h + 16);
        }
    }

    private static void dashed(Graphics2D g, int x1, int y1, int x2, int y2) {
        g.setColor(TARGET);
        g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
        g.drawLine(x1, y1, x2, y2);
        g.setStroke(new BasicStroke(1));
    }

    private static double zero(double value) {
        return Double.isNaN(value) ? 0 : value;
    }
}
