"""report/sections."""
