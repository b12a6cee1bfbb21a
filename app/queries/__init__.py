"""Read side: functions returning models or primitives; no HTTP, no rules, no writes."""
