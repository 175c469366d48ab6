print("backup-api 0.1.0")
