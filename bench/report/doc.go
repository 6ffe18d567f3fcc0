// Package report holds a feedbench run's figures and writes them out: a
// plain-text summary table, a JSON file with every figure and the machine
// it ran on, and one self-contained HTML page with SVG plots drawn by
// gonum.org/v1/plot (throughput over time, latency CDF, read latency
// histogram, the soak's memory and goroutines over time) and its tables.
package report
