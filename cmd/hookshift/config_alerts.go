package main

import (
	"fmt"
	"time"
)

// checkAlertWindow refuses an alert window under a second: asynq schedules
// the window's flush in whole seconds, and a shorter window would not bound
// anything.
func checkAlertWindow(c config) error {
	if c.AlertWindow < time.Second {
		return fmt.Errorf("--alert-window (HOOKSHIFT_ALERT_WINDOW) is %v; expected a duration of at least 1s, e.g. 15m", c.AlertWindow)
	}
	return nil
}
