ALTER TABLE "orders
WARN forged line" ADD COLUMN note text;
