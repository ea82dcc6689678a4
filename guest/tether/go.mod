module vic-iac/guest/tether

go 1.26
