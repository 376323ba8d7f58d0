module stwbench/workloads

go 1.21
