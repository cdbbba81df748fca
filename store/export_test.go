package store

// SetBackupStep makes backups copy n pages a step (small steps make a
// test's backup span many writes); the returned func restores it.
func SetBackupStep(n int32) (restore func()) {
	old := backupStep
	backupStep = n
	return func() { backupStep = old }
}
